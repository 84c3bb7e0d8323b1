/**
 * NVIDIA GPU evidence as the result of NVIDIA's Remote Attestation Service (NRAS): an overall
 * JWT plus one detached JWT per GPU, `[["JWT", overall], {"GPU-0": jwt, ...}]` (a single JWT is
 * accepted too). Every token's ES384 signature is checked against NVIDIA's published JWKS (given
 * as a file), then the claims: overall result, per GPU measurement result, secure boot, debug
 * status (a GPU in a debug or CC devtools mode is refused: tools can read its memory), nonce (tied
 * to the machine's keyset, report-data.ts gpuNonce), and the driver and vBIOS versions that go
 * into the verdict.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { createLocalJWKSet, type JSONWebKeySet, type JWTPayload, jwtVerify } from "jose";
import { toHex } from "../bytes.ts";
import { fail } from "../errors.ts";

export const NRAS_ISSUER = "https://nras.attestation.nvidia.com";

export interface GpuClaims {
  id: string;
  hwmodel: string | null;
  driverVersion: string;
  vbiosVersion: string;
}

export interface GpuVerification {
  gpus: GpuClaims[];
  /** The driver and vBIOS versions (all GPUs must agree): they go into the verdict's measurements. */
  driverVersion: string;
  vbiosVersion: string;
  checks: string[];
}

export interface GpuVerifyOptions {
  /** NVIDIA's JWKS (the JSON of its .well-known/jwks.json). */
  jwks: JSONWebKeySet;
  /** Hex nonce the tokens must carry: gpuNonce(keyset_sha256, challenge nonce), report-data.ts. */
  nonce: string;
  now: Date;
  issuer?: string;
}

interface Tokens {
  overall: string;
  gpus: Map<string, string>;
}

function parseTokens(text: string): Tokens {
  const trimmed = text.trim();
  if (!trimmed.startsWith("[")) {
    return { overall: trimmed, gpus: new Map() };
  }
  let value: unknown;
  try {
    value = JSON.parse(trimmed);
  } catch (error) {
    fail("bad_gpu_evidence", `GPU evidence: not JSON (${(error as Error).message})`);
  }
  const [head, detached] = Array.isArray(value) ? value : [];
  if (!Array.isArray(head) || head[0] !== "JWT" || typeof head[1] !== "string") {
    fail("bad_gpu_evidence", 'GPU evidence: expected [["JWT", <overall token>], {<gpu>: <token>}]');
  }
  const gpus = new Map<string, string>();
  if (detached !== undefined) {
    if (typeof detached !== "object" || detached === null || Array.isArray(detached)) {
      fail("bad_gpu_evidence", "GPU evidence: detached tokens must be an object of GPU id to JWT");
    }
    for (const [id, token] of Object.entries(detached)) {
      if (typeof token !== "string") {
        fail("bad_gpu_evidence", `GPU evidence: token of ${id} is not a string`);
      }
      gpus.set(id, token);
    }
  }
  return { overall: head[1], gpus };
}

async function verifyJwt(
  token: string,
  what: string,
  options: GpuVerifyOptions,
  keys: ReturnType<typeof createLocalJWKSet>,
): Promise<JWTPayload> {
  try {
    const { payload } = await jwtVerify(token, keys, {
      algorithms: ["ES384"],
      currentDate: options.now,
      issuer: options.issuer ?? NRAS_ISSUER,
    });
    return payload;
  } catch (error) {
    const e = error as { code?: string; message: string };
    const code = e.code === "ERR_JWT_EXPIRED" ? "gpu_token_expired" : "gpu_token_invalid";
    return fail(code, `${what}: ${e.message}${e.code === undefined ? "" : ` (${e.code})`}`);
  }
}

function claim(payload: JWTPayload, name: string, what: string): unknown {
  if (!(name in payload)) {
    fail("gpu_claim_failed", `${what}: claim ${name} is missing`);
  }
  return payload[name];
}

function expectClaim(payload: JWTPayload, name: string, expected: unknown, what: string): void {
  const value = claim(payload, name, what);
  if (value !== expected) {
    fail(
      "gpu_claim_failed",
      `${what}: ${name} is ${JSON.stringify(value)}, expected ${JSON.stringify(expected)}`,
    );
  }
}

function versionClaim(payload: JWTPayload, name: string, what: string): string {
  const value = claim(payload, name, what);
  if (typeof value !== "string" || value.length === 0 || value.length > 64) {
    fail("gpu_claim_failed", `${what}: ${name} must be a version string of 1-64 characters`);
  }
  return value;
}

/** The hex digest NRAS lists in the overall token's submods for a detached token. */
function submodDigest(overall: JWTPayload, id: string): string | null {
  const submods = overall.submods as Record<string, unknown> | undefined;
  const entry = submods?.[id];
  if (!Array.isArray(entry) || entry[0] !== "DIGEST" || !Array.isArray(entry[1])) {
    return null;
  }
  const [alg, digest] = entry[1] as unknown[];
  return alg === "SHA256" && typeof digest === "string" ? digest.toLowerCase() : null;
}

export async function verifyGpuEvidence(
  text: string,
  options: GpuVerifyOptions,
): Promise<GpuVerification> {
  const checks: string[] = [];
  const keys = createLocalJWKSet(options.jwks);
  const nonce = options.nonce.toLowerCase();
  const tokens = parseTokens(text);
  const overall = await verifyJwt(tokens.overall, "overall GPU token", options, keys);
  expectClaim(overall, "x-nvidia-overall-att-result", true, "overall GPU token");
  expectClaim(overall, "eat_nonce", nonce, "overall GPU token");
  checks.push("overall GPU token signed by NVIDIA, result true, nonce matches");

  // A single token carries the GPU claims itself; otherwise each detached token does.
  const gpuTokens =
    tokens.gpus.size === 0
      ? [["GPU-0", overall] as const]
      : await Promise.all(
          [...tokens.gpus].map(async ([id, token]) => {
            const listed = submodDigest(overall, id);
            const actual = toHex(sha256(new TextEncoder().encode(token)));
            if (listed !== null && listed !== actual) {
              fail(
                "gpu_token_invalid",
                `${id}: token digest ${actual} is not the ${listed} the overall token lists`,
              );
            }
            return [id, await verifyJwt(token, `${id} token`, options, keys)] as const;
          }),
        );
  const gpus: GpuClaims[] = [];
  for (const [id, payload] of gpuTokens) {
    expectClaim(payload, "measres", "success", id);
    expectClaim(payload, "secboot", true, id);
    const dbgstat = claim(payload, "dbgstat", id);
    if (dbgstat !== "disabled") {
      fail(
        "gpu_debug_mode",
        `${id}: dbgstat is ${JSON.stringify(dbgstat)}, not "disabled": the GPU runs in a debug or ` +
          "CC devtools mode, in which tools can read its memory",
      );
    }
    expectClaim(payload, "eat_nonce", nonce, id);
    if ("x-nvidia-gpu-attestation-report-nonce-match" in payload) {
      expectClaim(payload, "x-nvidia-gpu-attestation-report-nonce-match", true, id);
    }
    gpus.push({
      id,
      hwmodel: typeof payload.hwmodel === "string" ? payload.hwmodel : null,
      driverVersion: versionClaim(payload, "x-nvidia-gpu-driver-version", id),
      vbiosVersion: versionClaim(payload, "x-nvidia-gpu-vbios-version", id),
    });
    checks.push(
      `${id}: signed, measurements match (measres success), secure boot on, debug disabled, nonce matches`,
    );
  }
  const first = gpus[0] as GpuClaims;
  for (const gpu of gpus) {
    if (gpu.driverVersion !== first.driverVersion || gpu.vbiosVersion !== first.vbiosVersion) {
      fail(
        "gpu_claim_failed",
        `GPUs disagree: ${first.id} runs driver ${first.driverVersion} vBIOS ${first.vbiosVersion}, ` +
          `${gpu.id} runs driver ${gpu.driverVersion} vBIOS ${gpu.vbiosVersion}`,
      );
    }
  }
  return { gpus, driverVersion: first.driverVersion, vbiosVersion: first.vbiosVersion, checks };
}
