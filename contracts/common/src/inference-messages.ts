/**
 * The documents of confidential inference that are attested, hashed or signed, shared by the
 * registry and escrow contracts (which verify them on-chain) and by the client and the provider
 * agent (protocol/). Each is canonical JSON (canonical-json.ts) with a `version` naming it, so a
 * signature over one kind can never be read as another. protocol/PROTOCOL.md describes the flow.
 * Host-independent: the caller hashes (near.sha256 on-chain, @noble/hashes off-chain).
 */
import { canonicalBytes } from "./canonical-json.ts";
import { asciiBytes, concatBytes } from "./encoding.ts";
import { fail } from "./errors.ts";
import { requireArray, requireMatch, requireObject, requireOnlyKeys } from "./validate.ts";

export const KEYSET_VERSION = "gpumarket/v1/keyset";
export const RECEIPT_VERSION = "gpumarket/v1/receipt";
export const FAILURE_VERSION = "gpumarket/v1/failure";
export const GPU_NONCE_DOMAIN = "gpumarket/v1/gpu-nonce";
export const MACHINE_KEY_PROOF_VERSION = "gpumarket/v1/machine-key";
export const VOUCHER_VERSION = "gpumarket/v1/voucher";
export const SESSION_RECEIPT_VERSION = "gpumarket/v1/session-receipt";

/** A model a machine serves: its name (as the backend knows it) and the sha256 of its weights files. */
export interface ModelEntry {
  name: string;
  weights_sha256: string;
}

/**
 * What the TEE attests: the machine's ed25519 signing key and X25519 encryption key (both generated
 * inside the TEE), the provider account and registry it registers with, and the models it serves.
 */
export interface Keyset {
  account: string;
  registry: string;
  signing_key: string;
  encryption_key: string;
  models: ModelEntry[];
}

export const MAX_MODELS = 16;
const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$/;
const HEX32 = /^[0-9a-f]{64}$/;
const ENCRYPTION_KEY = /^x25519:[0-9a-f]{64}$/;

/** "x25519:<64 lowercase hex>". */
export function parseEncryptionKey(value: unknown, field: string): string {
  return requireMatch(value, field, ENCRYPTION_KEY, 71, '"x25519:" and 64 lowercase hex digits');
}

/** 1 to MAX_MODELS entries, sorted by name with no name repeated, so the list has one spelling. */
export function parseModels(value: unknown, field: string): ModelEntry[] {
  const list = requireArray(value, field, 1, MAX_MODELS);
  const models: ModelEntry[] = [];
  for (let i = 0; i < list.length; i++) {
    const entry = requireObject(list[i], `${field}[${i}]`);
    requireOnlyKeys(entry, `${field}[${i}]`, ["name", "weights_sha256"]);
    const name = requireMatch(entry.name, `${field}[${i}].name`, MODEL_NAME, 64, "a model name");
    const weights = requireMatch(
      entry.weights_sha256,
      `${field}[${i}].weights_sha256`,
      HEX32,
      64,
      "64 lowercase hex digits",
    );
    const previous = models[i - 1];
    if (previous !== undefined && previous.name >= name) {
      fail(`${field}: names must be unique and sorted; "${name}" comes after "${previous.name}"`);
    }
    models.push({ name, weights_sha256: weights });
  }
  return models;
}

export function keysetBytes(keyset: Keyset): Uint8Array {
  return canonicalBytes({
    version: KEYSET_VERSION,
    account: keyset.account,
    registry: keyset.registry,
    signing_key: keyset.signing_key,
    encryption_key: keyset.encryption_key,
    models: keyset.models.map((m) => ({ name: m.name, weights_sha256: m.weights_sha256 })),
  });
}

/** REPORTDATA (64 bytes): sha256(keyset) then the registry's 32-byte challenge nonce. */
export function reportDataBytes(keysetDigest: Uint8Array, nonce: Uint8Array): Uint8Array {
  if (keysetDigest.length !== 32 || nonce.length !== 32) {
    fail("internal: report data needs a 32-byte keyset digest and a 32-byte nonce");
  }
  return concatBytes(keysetDigest, nonce);
}

/**
 * What the machine key signs (sha256 of the canonical bytes) to prove the provider holds it, when
 * the key is registered (add_machine) or rotated to (submit_evidence): the registry, the provider
 * account and the nonce of the provider's open challenge for the key, so the proof is good for one
 * registration by one provider only.
 */
export interface MachineKeyProof {
  registry: string;
  account: string;
  signing_key: string;
  nonce: string;
}

export function machineKeyProofBytes(proof: MachineKeyProof): Uint8Array {
  return canonicalBytes({
    version: MACHINE_KEY_PROOF_VERSION,
    registry: proof.registry,
    account: proof.account,
    signing_key: proof.signing_key,
    nonce: proof.nonce,
  });
}

/** What sha256 is taken of to get the GPU evidence nonce: ties the GPU report to the same keyset. */
export function gpuNoncePreimage(keysetDigest: Uint8Array, nonce: Uint8Array): Uint8Array {
  return concatBytes(asciiBytes(GPU_NONCE_DOMAIN), new Uint8Array([0]), keysetDigest, nonce);
}

/**
 * What the machine key signs (sha256 of the canonical bytes) when it delivers a job: the model it
 * loaded, the hashes of the request and response ciphertexts, the backend's token counts and the
 * number of response chunks. Counts are u64 decimal strings.
 */
export interface InferenceReceipt {
  escrow: string;
  job_id: string;
  model: string;
  weights_sha256: string;
  request_sha256: string;
  response_sha256: string;
  prompt_tokens: string;
  completion_tokens: string;
  chunks: string;
}

export function receiptBytes(receipt: InferenceReceipt): Uint8Array {
  return canonicalBytes({
    version: RECEIPT_VERSION,
    escrow: receipt.escrow,
    job_id: receipt.job_id,
    model: receipt.model,
    weights_sha256: receipt.weights_sha256,
    request_sha256: receipt.request_sha256,
    response_sha256: receipt.response_sha256,
    prompt_tokens: receipt.prompt_tokens,
    completion_tokens: receipt.completion_tokens,
    chunks: receipt.chunks,
  });
}

/** Why a machine gives a job back unserved; the client is refunded in full at once. */
export const FAILURE_CODES = [
  "model_unavailable",
  "backend_unavailable",
  "bad_request",
  "capacity",
  "inference_error",
] as const;
export type FailureCode = (typeof FAILURE_CODES)[number];

export interface FailureNotice {
  escrow: string;
  job_id: string;
  code: FailureCode;
}

export function failureBytes(notice: FailureNotice): Uint8Array {
  return canonicalBytes({
    version: FAILURE_VERSION,
    escrow: notice.escrow,
    job_id: notice.job_id,
    code: notice.code,
  });
}

/**
 * What a session's client key signs (sha256 of the canonical bytes) to pay for inference off-chain:
 * the escrow and session, the cumulative amount the client agrees the provider may claim from the
 * session's budget (u128 decimal, base units of the session's asset) and a nonce (u64 decimal)
 * that grows with every voucher. The provider claims with the voucher of its choice; the escrow
 * takes only a nonce above the last one it recorded, so a voucher cannot be replayed.
 */
export interface SessionVoucher {
  escrow: string;
  session_id: string;
  amount: string;
  nonce: string;
}

export function voucherBytes(voucher: SessionVoucher): Uint8Array {
  return canonicalBytes({
    version: VOUCHER_VERSION,
    escrow: voucher.escrow,
    session_id: voucher.session_id,
    amount: voucher.amount,
    nonce: voucher.nonce,
  });
}

/**
 * What the machine key signs (sha256 of the canonical bytes) for each request it answers in a
 * session: the same fields as a job's receipt, the session instead of the job, and `charged`, the
 * session's cumulative cost after this request (u128 decimal) under the voucher of `nonce`. The
 * client checks it before signing its next voucher; in a dispute it shows what was served.
 */
export interface SessionReceipt {
  escrow: string;
  session_id: string;
  request_id: string;
  model: string;
  weights_sha256: string;
  request_sha256: string;
  response_sha256: string;
  prompt_tokens: string;
  completion_tokens: string;
  charged: string;
  nonce: string;
}

export function sessionReceiptBytes(receipt: SessionReceipt): Uint8Array {
  return canonicalBytes({
    version: SESSION_RECEIPT_VERSION,
    escrow: receipt.escrow,
    session_id: receipt.session_id,
    request_id: receipt.request_id,
    model: receipt.model,
    weights_sha256: receipt.weights_sha256,
    request_sha256: receipt.request_sha256,
    response_sha256: receipt.response_sha256,
    prompt_tokens: receipt.prompt_tokens,
    completion_tokens: receipt.completion_tokens,
    charged: receipt.charged,
    nonce: receipt.nonce,
  });
}
