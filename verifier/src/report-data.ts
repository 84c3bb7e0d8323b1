/**
 * What a machine's evidence must carry, from its keyset (contracts/common/src/inference-messages.ts,
 * the same code the registry runs): keyset_sha256 = sha256 of the canonical keyset document
 * (provider account, registry, ed25519 signing key, X25519 encryption key, models);
 * REPORTDATA = keyset_sha256 (32 bytes) || the registry's challenge nonce (32 bytes); the NVIDIA
 * GPU evidence nonce = hex(sha256("gpumarket/v1/gpu-nonce" || 0 || keyset_sha256 || nonce)).
 * Computed here so that anyone can check evidence without the chain; the service compares them
 * with the registry's views.
 */
import {
  gpuNoncePreimage,
  type Keyset,
  keysetBytes,
  parseEncryptionKey,
  parseModels,
  reportDataBytes,
} from "@gpu-market/common/src/inference-messages.ts";
import { sha256 } from "@noble/hashes/sha2.js";
import { base58 } from "@scure/base";
import { fromHex, toHex } from "./bytes.ts";
import { fail } from "./errors.ts";

export type { Keyset, ModelEntry } from "@gpu-market/common/src/inference-messages.ts";

const ACCOUNT_ID = /^(([a-z\d]+[-_])*[a-z\d]+\.)*([a-z\d]+[-_])*[a-z\d]+$/;

function account(value: string, field: string): string {
  if (value.length < 2 || value.length > 64 || !ACCOUNT_ID.test(value)) {
    fail("bad_input", `${field}: "${value}" is not a NEAR account id`);
  }
  return value;
}

/** "ed25519:<base58>" to its 32 key bytes. */
export function machineKeyBytes(key: string): Uint8Array {
  if (!key.startsWith("ed25519:")) {
    fail("bad_input", `machine key: expected "ed25519:<base58>", got "${key}"`);
  }
  let bytes: Uint8Array;
  try {
    bytes = base58.decode(key.slice("ed25519:".length));
  } catch {
    return fail("bad_input", `machine key: "${key}" is not base58`);
  }
  if (bytes.length !== 32) {
    fail("bad_input", `machine key: an ed25519 key is 32 bytes, this one is ${bytes.length}`);
  }
  return bytes;
}

/** The shared validators throw plain Errors (they are the contracts' too): here they are input errors. */
function validated<T>(check: () => T): T {
  try {
    return check();
  } catch (error) {
    return fail("bad_input", (error as Error).message);
  }
}

/** sha256 (hex) of the keyset document, every field validated as the registry validates it. */
export function keysetSha256(keyset: Keyset): string {
  machineKeyBytes(keyset.signing_key);
  const bytes = keysetBytes({
    account: account(keyset.account, "account"),
    registry: account(keyset.registry, "registry"),
    signing_key: keyset.signing_key,
    encryption_key: validated(() => parseEncryptionKey(keyset.encryption_key, "encryption_key")),
    models: validated(() => parseModels(keyset.models, "models")),
  });
  return toHex(sha256(bytes));
}

/** The REPORTDATA (128 hex chars) for a keyset hash and a challenge nonce (64 hex chars each). */
export function expectedReportData(keysetSha256Hex: string, nonceHex: string): string {
  return toHex(
    reportDataBytes(fromHex(keysetSha256Hex, "keyset_sha256", 32), fromHex(nonceHex, "nonce", 32)),
  );
}

/** The nonce NVIDIA GPU evidence must carry (64 hex chars): it ties the GPUs to the same keyset. */
export function gpuNonce(keysetSha256Hex: string, nonceHex: string): string {
  const preimage = gpuNoncePreimage(
    fromHex(keysetSha256Hex, "keyset_sha256", 32),
    fromHex(nonceHex, "nonce", 32),
  );
  return toHex(sha256(preimage));
}
