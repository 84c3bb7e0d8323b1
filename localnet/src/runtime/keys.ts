/** Public keys and signatures as NEAR encodes them: string form, borsh length, verification. */
import { createPublicKey, type KeyObject, verify as nodeVerify } from "node:crypto";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { base58 } from "@scure/base";
import type { PublicKey, Signature } from "./types.ts";

const KEY_TYPE_NAMES = ["ed25519", "secp256k1"] as const;
const KEY_LENGTHS = [32, 64] as const;
export const SIGNATURE_LENGTHS = [64, 65] as const;

export function publicKeyToString(key: PublicKey): string {
  return `${KEY_TYPE_NAMES[key.keyType]}:${base58.encode(key.data)}`;
}

export function signatureToString(sig: Signature): string {
  return `${KEY_TYPE_NAMES[sig.keyType]}:${base58.encode(sig.data)}`;
}

/** Parses "ed25519:<base58>" or "secp256k1:<base58>" (a bare base58 string means ed25519). */
export function parsePublicKey(text: string): PublicKey {
  if (typeof text !== "string") throw new Error(`public key must be a string, got ${typeof text}`);
  const colon = text.indexOf(":");
  const typeName = colon < 0 ? "ed25519" : text.slice(0, colon);
  const body = colon < 0 ? text : text.slice(colon + 1);
  const keyType = typeName === "ed25519" ? 0 : typeName === "secp256k1" ? 1 : -1;
  if (keyType < 0)
    throw new Error(
      `unknown public key type ${JSON.stringify(typeName)} in ${JSON.stringify(text)}`,
    );
  let data: Uint8Array;
  try {
    data = base58.decode(body);
  } catch {
    throw new Error(`public key ${JSON.stringify(text)} is not valid base58`);
  }
  const expected = KEY_LENGTHS[keyType as 0 | 1];
  if (data.length !== expected) {
    throw new Error(
      `public key ${JSON.stringify(text)} has ${data.length} bytes, expected ${expected}`,
    );
  }
  return { keyType: keyType as 0 | 1, data };
}

export function publicKeyLength(keyType: 0 | 1): number {
  return KEY_LENGTHS[keyType];
}

/** Length of borsh(PublicKey): one byte of key type plus the key. */
export function publicKeyBorshLength(key: PublicKey): number {
  return 1 + key.data.length;
}

export function publicKeysEqual(a: PublicKey, b: PublicKey): boolean {
  if (a.keyType !== b.keyType || a.data.length !== b.data.length) return false;
  for (let i = 0; i < a.data.length; i++) if (a.data[i] !== b.data[i]) return false;
  return true;
}

const ed25519KeyCache = new Map<string, KeyObject>();

function ed25519KeyObject(raw: Uint8Array): KeyObject {
  const x = Buffer.from(raw).toString("base64url");
  let key = ed25519KeyCache.get(x);
  if (key === undefined) {
    key = createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x }, format: "jwk" });
    // Bounded: a long-running node sees many keys; dropping the cache is cheap.
    if (ed25519KeyCache.size > 50_000) ed25519KeyCache.clear();
    ed25519KeyCache.set(x, key);
  }
  return key;
}

/** Verifies `sig` over `message` (NEAR signs the 32-byte sha256 hash directly). */
export function verifySignature(message: Uint8Array, sig: Signature, key: PublicKey): boolean {
  if (sig.keyType !== key.keyType) return false;
  try {
    if (key.keyType === 0) {
      if (sig.data.length !== 64 || key.data.length !== 32) return false;
      return nodeVerify(null, message, ed25519KeyObject(key.data), sig.data);
    }
    if (sig.data.length !== 65 || key.data.length !== 64) return false;
    const uncompressed = new Uint8Array(65);
    uncompressed[0] = 4;
    uncompressed.set(key.data, 1);
    return secp256k1.verify(sig.data.subarray(0, 64), message, uncompressed, { prehash: false });
  } catch {
    return false;
  }
}
