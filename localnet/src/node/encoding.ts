/** Byte encodings NEAR's JSON views use: base58 hashes and keys, base64 blobs, sha256. */
import { sha256 as nobleSha256 } from "@noble/hashes/sha2.js";
import { base58, base64 } from "@scure/base";
import type { PublicKey, Signature } from "../runtime/types.ts";

const KEY_TYPE_NAMES = ["ed25519", "secp256k1"] as const;
const KEY_LENGTHS = [32, 64] as const;

export function sha256(bytes: Uint8Array): Uint8Array {
  return nobleSha256(bytes);
}

export function toBase58(bytes: Uint8Array): string {
  return base58.encode(bytes);
}

export function fromBase58(text: string, what: string): Uint8Array {
  try {
    return base58.decode(text);
  } catch {
    throw new Error(`${what} is not valid base58: ${JSON.stringify(text)}`);
  }
}

export function toBase64(bytes: Uint8Array): string {
  return base64.encode(bytes);
}

export function fromBase64(text: string, what: string): Uint8Array {
  try {
    return base64.decode(text);
  } catch {
    throw new Error(`${what} is not valid base64: ${JSON.stringify(text)}`);
  }
}

/** A 32-byte hash from its base58 form; throws naming `what` when malformed. */
export function parseHash(text: string, what: string): Uint8Array {
  const bytes = fromBase58(text, what);
  if (bytes.length !== 32) {
    throw new Error(`${what} must be 32 bytes, got ${bytes.length}: ${JSON.stringify(text)}`);
  }
  return bytes;
}

export function publicKeyToString(key: PublicKey): string {
  return `${KEY_TYPE_NAMES[key.keyType]}:${toBase58(key.data)}`;
}

export function signatureToString(signature: Signature): string {
  return `${KEY_TYPE_NAMES[signature.keyType]}:${toBase58(signature.data)}`;
}

/** Parses "ed25519:<base58>" (a bare base58 key is ed25519, as nearcore accepts). */
export function parsePublicKey(text: string): PublicKey {
  const colon = text.indexOf(":");
  const typeName = colon === -1 ? "ed25519" : text.slice(0, colon);
  const keyType = KEY_TYPE_NAMES.indexOf(typeName as (typeof KEY_TYPE_NAMES)[number]);
  if (keyType !== 0 && keyType !== 1) {
    throw new Error(`unknown key type "${typeName}" in public key ${JSON.stringify(text)}`);
  }
  const data = fromBase58(text.slice(colon + 1), "public key");
  if (data.length !== KEY_LENGTHS[keyType]) {
    throw new Error(`public key ${JSON.stringify(text)} must be ${KEY_LENGTHS[keyType]} bytes`);
  }
  return { keyType, data };
}

/** Borsh form of a PublicKey: key type byte + key bytes. */
export function publicKeyToBytes(key: PublicKey): Uint8Array {
  const out = new Uint8Array(1 + key.data.length);
  out[0] = key.keyType;
  out.set(key.data, 1);
  return out;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) return false;
  }
  return true;
}

export function hexKey(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("hex");
}

export const ZERO_HASH = new Uint8Array(32);

/** A JSON number written with all its digits (u64 values above 2^53 stay exact on the wire). */
export function u64(value: bigint | number): unknown {
  return (JSON as unknown as { rawJSON(text: string): unknown }).rawJSON(value.toString());
}
