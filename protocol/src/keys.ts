/**
 * A machine's two keys, generated inside the TEE: ed25519 signs receipts and failures, X25519
 * receives HPKE-encrypted requests. Public keys are spelled as the registry stores them:
 * "ed25519:<base58>" and "x25519:<hex>".
 */
import { ed25519, x25519 } from "@noble/curves/ed25519.js";
import { base58 } from "@scure/base";
import { fromHex, toHex } from "./bytes.ts";
import { fail } from "./errors.ts";

export interface MachineSecrets {
  /** ed25519 secret seed, 32 bytes. */
  signing: Uint8Array;
  /** X25519 secret scalar, 32 bytes. */
  encryption: Uint8Array;
}

export function generateMachineSecrets(): MachineSecrets {
  return { signing: ed25519.utils.randomSecretKey(), encryption: x25519.utils.randomSecretKey() };
}

export function signingPublicKey(secret: Uint8Array): string {
  return `ed25519:${base58.encode(ed25519.getPublicKey(secret))}`;
}

export function encryptionPublicKey(secret: Uint8Array): string {
  return `x25519:${toHex(x25519.getPublicKey(secret))}`;
}

/** "ed25519:<base58>" to its 32 bytes. */
export function parseSigningKey(text: string, field: string): Uint8Array {
  if (!text.startsWith("ed25519:")) {
    fail("bad_input", `${field}: expected "ed25519:<base58>", got "${text}"`);
  }
  let bytes: Uint8Array;
  try {
    bytes = base58.decode(text.slice("ed25519:".length));
  } catch {
    return fail("bad_input", `${field}: "${text}" is not base58`);
  }
  if (bytes.length !== 32) {
    fail("bad_input", `${field}: an ed25519 key is 32 bytes, got ${bytes.length}`);
  }
  return bytes;
}

/** "x25519:<64 hex>" to its 32 bytes. */
export function parseEncryptionKey(text: string, field: string): Uint8Array {
  if (!text.startsWith("x25519:")) {
    fail("bad_input", `${field}: expected "x25519:<64 hex>", got "${text}"`);
  }
  return fromHex(text.slice("x25519:".length), field, 32);
}
