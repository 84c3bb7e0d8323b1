/**
 * verify-evidence FILE: checks a machine's evidence (a GMEV bundle or a bare TDX quote) exactly
 * as the verifier service does, and prints the verdict. Exit 0: approve; 1: reject; 2: bad usage
 * or input.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { checkEvidence, type EvidenceVerdict, type TeeType } from "../check.ts";
import { VerificationError } from "../errors.ts";
import { expectedReportData, gpuNonce, keysetSha256 } from "../report-data.ts";
import { loadPolicy, loadTrust } from "../trust.ts";

const USAGE = `usage: verify-evidence FILE [options]
  --root-ca FILE         Intel SGX root CA certificate (DER) [required for TDX]
  --collateral FILE      collateral JSON (dcap-qvl layout) | --pccs URL  PCCS to fetch it from
  --collateral-cache DIR with --pccs: keep its collateral in DIR until shortly before nextUpdate
  --report-data HEX      the REPORTDATA the registry requires (128 hex chars: the keyset's sha256,
                         then the challenge nonce), or compute it from the keyset and the nonce:
  --registry ACCOUNT --provider ACCOUNT --machine-key ed25519:... --encryption-key x25519:...
  --models JSON --nonce HEX    (models: [{"name","weights_sha256"}], sorted by name)
                         GPU tokens must carry the nonce derived from the same keyset and nonce
  --nvidia-jwks FILE     NVIDIA's JWKS, to verify GPU attestation tokens
  --policy FILE          policy JSON (acceptedTcbStatuses, allowDebugTd, requireGpu, allowDev)
  --no-gpu               do not require GPU evidence (overrides the policy)
  --tee tdx|none-dev     the machine's TEE type (default tdx)
  --now ISO              verify at this time instead of now
  --json                 print the verdict as JSON`;

function print(file: string, bytes: Uint8Array, verdict: EvidenceVerdict): void {
  const lines = [
    `evidence:    ${file} (${bytes.length} bytes, sha256 ${createHash("sha256").update(bytes).digest("hex")})`,
    `verdict:     ${verdict.approve ? "APPROVE" : "REJECT"}`,
    `tcb status:  ${verdict.tcbStatus}${verdict.advisoryIds.length ? ` (${verdict.advisoryIds.join(", ")})` : ""}`,
    `reason:      ${verdict.reason}`,
  ];
  if (verdict.tdx) {
    lines.push(`fmspc:       ${verdict.tdx.platform.fmspc}`);
    lines.push(`report data: ${verdict.tdx.td.report_data}`);
  }
  if (verdict.measurements) {
    lines.push("measurements:");
    for (const [k, v] of Object.entries(verdict.measurements)) {
      lines.push(`  ${k.padEnd(10)} ${v === "" ? "(none)" : v}`);
    }
  }
  lines.push("checks passed:");
  for (const c of verdict.checks) {
    lines.push(`  ok  ${c}`);
  }
  if (!verdict.approve) {
    lines.push(`  FAIL ${verdict.reason}`);
  }
  process.stdout.write(`${lines.join("\n")}\n`);
}

export async function main(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  const file = positionals[0];
  if (file === undefined || positionals.length > 1) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  try {
    const bytes = new Uint8Array(readFileSync(file));
    const now = values.now === undefined ? new Date() : new Date(values.now);
    if (Number.isNaN(now.getTime())) {
      throw new VerificationError("bad_input", `--now: "${values.now}" is not an ISO date`);
    }
    let reportData = values["report-data"] ?? null;
    if (reportData === null && values.registry !== undefined) {
      const needed = ["provider", "machine-key", "encryption-key", "models", "nonce"] as const;
      const missing = needed.filter((name) => values[name] === undefined);
      if (missing.length > 0) {
        throw new VerificationError(
          "bad_input",
          `--registry needs --${missing.join(", --")} to compute REPORTDATA`,
        );
      }
      let models: unknown;
      try {
        models = JSON.parse(values.models ?? "");
      } catch (error) {
        throw new VerificationError(
          "bad_input",
          `--models: not JSON (${(error as Error).message})`,
        );
      }
      const keyset = keysetSha256({
        account: values.provider ?? "",
        registry: values.registry,
        signing_key: values["machine-key"] ?? "",
        encryption_key: values["encryption-key"] ?? "",
        models: models as Parameters<typeof keysetSha256>[0]["models"],
      });
      reportData = expectedReportData(keyset, values.nonce ?? "");
    }
    if (reportData !== null && !/^[0-9a-fA-F]{128}$/.test(reportData)) {
      throw new VerificationError("bad_input", "--report-data: expected 128 hex characters");
    }
    // REPORTDATA is keyset_sha256 || nonce: the GPU nonce follows from it.
    const nonce =
      reportData === null
        ? null
        : gpuNonce(reportData.slice(0, 64).toLowerCase(), reportData.slice(64).toLowerCase());
    const tee = (values.tee ?? "tdx") as TeeType;
    if (!["tdx", "none-dev"].includes(tee)) {
      throw new VerificationError("bad_input", `--tee: "${tee}" is not tdx or none-dev`);
    }
    if (tee === "tdx" && values["root-ca"] === undefined) {
      throw new VerificationError("bad_input", "--root-ca FILE is required to verify a TDX quote");
    }
    let policy = loadPolicy(values.policy);
    if (values["no-gpu"]) {
      policy = { ...policy, requireGpu: false };
    }
    const trust = loadTrust(
      {
        rootCa: values["root-ca"] ?? "/dev/null",
        collateral: values.collateral,
        pccs: values.pccs,
        collateralCache: values["collateral-cache"],
        nvidiaJwks: values["nvidia-jwks"],
      },
      {
        // The cache judges freshness at the time verified at.
        clock: () => now,
        log: (record) => process.stderr.write(`verify-evidence: ${JSON.stringify(record)}\n`),
      },
    );
    const verdict = await checkEvidence(
      bytes,
      { teeType: tee, reportData, nonce },
      { ...trust, now },
      policy,
    );
    if (values.json) {
      process.stdout.write(`${JSON.stringify(verdict, null, 2)}\n`);
    } else {
      print(file, bytes, verdict);
    }
    return verdict.approve ? 0 : 1;
  } catch (error) {
    process.stderr.write(`verify-evidence: ${(error as Error).message}\n`);
    return 2;
  }
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      "root-ca": { type: "string" },
      collateral: { type: "string" },
      pccs: { type: "string" },
      "collateral-cache": { type: "string" },
      "report-data": { type: "string" },
      registry: { type: "string" },
      provider: { type: "string" },
      "machine-key": { type: "string" },
      "encryption-key": { type: "string" },
      models: { type: "string" },
      nonce: { type: "string" },
      "nvidia-jwks": { type: "string" },
      policy: { type: "string" },
      "no-gpu": { type: "boolean" },
      tee: { type: "string" },
      now: { type: "string" },
      json: { type: "boolean" },
    },
  });
}
