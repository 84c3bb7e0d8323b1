/**
 * X25519 (RFC 7748) on Node's OpenSSL, in the shape @hpke/common's X-curve KEM primitives take.
 * @hpke/core's own X25519 goes through async WebCrypto (a thread-pool hop per key import, export
 * and derive) and @hpke/dhkem-x25519's through pure-JS @noble/curves; OpenSSL's synchronous calls
 * cost a fraction of either, and HPKE itself stays in @hpke (suite.ts).
 */
import {
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  type KeyObject,
  randomBytes,
} from "node:crypto";
import type { MontgomeryECDH } from "@hpke/common";

const KEY_BYTES = 32;
// DER prefixes of a raw X25519 key (RFC 8410): PKCS#8 for a secret, SubjectPublicKeyInfo for a public key.
const PKCS8_PREFIX = Buffer.from("302e020100300506032b656e04220420", "hex");
const SPKI_PREFIX = Buffer.from("302a300506032b656e032100", "hex");
/** The base point u = 9. */
const BASE_POINT = Uint8Array.from({ length: KEY_BYTES }, (_, i) => (i === 0 ? 9 : 0));

function checkLength(bytes: Uint8Array, what: string): void {
  if (bytes.length !== KEY_BYTES) {
    throw new Error(`x25519: ${what} must be ${KEY_BYTES} bytes, got ${bytes.length}`);
  }
}

/** A raw 32-byte key as an OpenSSL key object (the DER wrapping of RFC 8410). */
function keyObject(kind: "secret" | "public", raw: Uint8Array): KeyObject {
  checkLength(raw, `${kind} key`);
  return kind === "secret"
    ? createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, raw]), format: "der", type: "pkcs8" })
    : createPublicKey({ key: Buffer.concat([SPKI_PREFIX, raw]), format: "der", type: "spki" });
}

function getPublicKey(secretKey: Uint8Array): Uint8Array {
  const spki = createPublicKey(keyObject("secret", secretKey)).export({
    format: "der",
    type: "spki",
  });
  return new Uint8Array(spki.subarray(SPKI_PREFIX.length));
}

/** OpenSSL refuses an all-zero shared secret (a low-order point), as RFC 9180 section 7.1.4 requires. */
function getSharedSecret(secretKey: Uint8Array, publicKey: Uint8Array): Uint8Array {
  return new Uint8Array(
    diffieHellman({
      privateKey: keyObject("secret", secretKey),
      publicKey: keyObject("public", publicKey),
    }),
  );
}

function randomSecretKey(seed?: Uint8Array): Uint8Array {
  return seed ?? new Uint8Array(randomBytes(KEY_BYTES));
}

function keygen(seed?: Uint8Array): { secretKey: Uint8Array; publicKey: Uint8Array } {
  const secretKey = randomSecretKey(seed);
  return { secretKey, publicKey: getPublicKey(secretKey) };
}

export const nativeX25519: MontgomeryECDH = {
  scalarMult: getSharedSecret,
  scalarMultBase: getPublicKey,
  getSharedSecret,
  getPublicKey,
  // @hpke/common derives the public key itself after this: no scalar multiplication here.
  utils: { randomSecretKey: async (seed) => randomSecretKey(seed) },
  GuBytes: BASE_POINT,
  lengths: { secretKey: KEY_BYTES, publicKey: KEY_BYTES, seed: KEY_BYTES },
  keygen,
};
