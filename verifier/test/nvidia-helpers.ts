/** Test NRAS tokens: an ES384 key standing in for NVIDIA's, and tokens shaped like NRAS's. */
import { createHash } from "node:crypto";
import { exportJWK, generateKeyPair, type JSONWebKeySet, type JWTPayload, SignJWT } from "jose";
import { NRAS_ISSUER } from "../src/nvidia/token.ts";

export interface TestSigner {
  jwks: JSONWebKeySet;
  sign: (claims: JWTPayload, options?: { expiresIn?: string; kid?: string }) => Promise<string>;
}

export async function testSigner(kid = "nv-test-1"): Promise<TestSigner> {
  const { publicKey, privateKey } = await generateKeyPair("ES384");
  const jwk = { ...(await exportJWK(publicKey)), kid, alg: "ES384", use: "sig" };
  return {
    jwks: { keys: [jwk] },
    sign: (claims, options = {}) =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: "ES384", kid: options.kid ?? kid })
        .setIssuer(NRAS_ISSUER)
        .setIssuedAt()
        .setExpirationTime(options.expiresIn ?? "1h")
        .sign(privateKey),
  };
}

export function gpuClaims(nonce: string): JWTPayload {
  return {
    measres: "success",
    secboot: true,
    dbgstat: "disabled",
    eat_nonce: nonce,
    hwmodel: "GH100 A01 GSP BROM",
    "x-nvidia-gpu-driver-version": "580.159.04",
    "x-nvidia-gpu-vbios-version": "96.00.9F.00.04",
    "x-nvidia-gpu-attestation-report-nonce-match": true,
  };
}

/** An NRAS result: [["JWT", overall], {"GPU-0": detached}] with the detached token's digest listed. */
export async function nrasResult(
  signer: TestSigner,
  nonce: string,
  gpu: JWTPayload = gpuClaims(nonce),
  overall: JWTPayload = {},
): Promise<string> {
  const detached = await signer.sign(gpu);
  const digest = createHash("sha256").update(detached).digest("hex");
  const top = await signer.sign({
    "x-nvidia-overall-att-result": true,
    eat_nonce: nonce,
    submods: { "GPU-0": ["DIGEST", ["SHA256", digest]] },
    ...overall,
  });
  return JSON.stringify([["JWT", top], { "GPU-0": detached }]);
}
