/** Evidence bytes (TDX quote + GPU evidence, base64): size-checked, hashed, and never reused. */
import { near } from "near-sdk-js";
import { decodeBase64, toHex } from "../../common/src/encoding.ts";
import { fail } from "../../common/src/errors.ts";
import type { Evidence, RegistryParams } from "../../common/src/registry-types.ts";
import { hasRecord, writeRecord } from "../../common/src/store.ts";
import { requireString } from "../../common/src/validate.ts";
import { evidenceKey } from "./keys.ts";
import { LIMITS } from "./state.ts";

/** Argument size allowed for a method carrying evidence and a keyset, given the evidence ceiling. */
export function evidenceArgsBytes(params: RegistryParams): number {
  return LIMITS.argsBytes + LIMITS.keysetArgsBytes + Math.ceil(params.max_evidence_bytes / 3) * 4;
}

/**
 * Decodes and hashes `value`, records its hash as used (the same evidence is accepted once,
 * ever) and returns the record bound to the consumed challenge's nonce and the keyset it attests.
 */
export function acceptEvidence(
  value: unknown,
  params: RegistryParams,
  nonce: string,
  keysetSha256: string,
): Evidence {
  const maxBase64 = Math.ceil(params.max_evidence_bytes / 3) * 4;
  const text = requireString(value, "evidence", 4, maxBase64);
  const bytes = decodeBase64(text, "evidence");
  if (bytes.length > params.max_evidence_bytes) {
    fail(`evidence: ${bytes.length} bytes, more than the ${params.max_evidence_bytes} allowed`);
  }
  const hash = toHex(near.sha256(bytes));
  if (hasRecord(evidenceKey(hash))) {
    fail(`evidence ${hash} was already submitted; evidence must answer a fresh challenge`);
  }
  writeRecord(evidenceKey(hash), 1);
  return {
    hash,
    size: bytes.length,
    nonce,
    submitted_at: near.blockTimestamp().toString(),
    keyset_sha256: keysetSha256,
  };
}
