/** ed25519 key pairs in NEAR's text forms ("ed25519:<base58>"), as key files and RPC carry them. */
import { ed25519 } from "@noble/curves/ed25519.js";
import type { PublicKey } from "../runtime/types.ts";
import { fromBase58, publicKeyToString, toBase58 } from "./encoding.ts";

export interface KeyPair {
  publicKey: PublicKey;
  /** "ed25519:<base58 of the 32-byte seed followed by the 32-byte public key>". */
  secretKey: string;
}

function fromSeedBytes(seed: Uint8Array): KeyPair {
  const publicBytes = ed25519.getPublicKey(seed);
  const secret = new Uint8Array(64);
  secret.set(seed, 0);
  secret.set(publicBytes, 32);
  return { publicKey: { keyType: 0, data: publicBytes }, secretKey: `ed25519:${toBase58(secret)}` };
}

export function randomKeyPair(): KeyPair {
  return fromSeedBytes(ed25519.utils.randomSecretKey());
}

/** nearcore's InMemorySigner::from_seed: the seed text, cut or padded with spaces to 32 bytes. */
export function keyPairFromSeed(seed: string): KeyPair {
  const bytes = new Uint8Array(32).fill(0x20);
  bytes.set(new TextEncoder().encode(seed).subarray(0, 32));
  return fromSeedBytes(bytes);
}

/** Reads "ed25519:<base58>" secret keys in both 64-byte (seed + public) and 32-byte forms. */
export function keyPairFromSecret(secretKey: string): KeyPair {
  if (!secretKey.startsWith("ed25519:")) {
    throw new Error("only ed25519 secret keys are supported");
  }
  const bytes = fromBase58(secretKey.slice("ed25519:".length), "secret key");
  if (bytes.length !== 64 && bytes.length !== 32) {
    throw new Error(`an ed25519 secret key has 32 or 64 bytes, got ${bytes.length}`);
  }
  return fromSeedBytes(bytes.subarray(0, 32));
}

export function sign(secretKey: string, message: Uint8Array): Uint8Array {
  const bytes = fromBase58(secretKey.slice("ed25519:".length), "secret key");
  return ed25519.sign(message, bytes.subarray(0, 32));
}

/** The JSON of a NEAR key file (validator_key.json, node_key.json). */
export function keyFile(accountId: string, pair: KeyPair): Record<string, string> {
  return {
    account_id: accountId,
    public_key: publicKeyToString(pair.publicKey),
    secret_key: pair.secretKey,
  };
}
