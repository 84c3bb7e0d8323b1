/**
 * HPKE (RFC 9180), base mode, single shot, for the market's one suite: DHKEM(X25519, HKDF-SHA256),
 * HKDF-SHA256, ChaCha20-Poly1305 (kem 0x0020, kdf 0x0001, aead 0x0003). A request is one message
 * (sequence number 0) plus one export (the response key), so no context object is kept.
 *
 * Built on Node's native crypto (OpenSSL), synchronously: X25519, HMAC-SHA256 and
 * ChaCha20-Poly1305 each cost microseconds, where WebCrypto's promise per step made the fixed cost
 * of a request about 1 ms (BENCHMARKS.md, "Encryption per request"). Interoperability with
 * @hpke/core is tested both ways (test/hpke.test.ts).
 */
import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  type KeyObject,
} from "node:crypto";

const KEM_ID = 0x0020;
const KDF_ID = 0x0001;
const AEAD_ID = 0x0003;
const KEY_BYTES = 32;
const NONCE_BYTES = 12;
const HASH_BYTES = 32;
/** Encoded X25519 public key (enc, pkR) and secret scalar lengths. */
export const X25519_BYTES = 32;

const ascii = (text: string): Uint8Array => new TextEncoder().encode(text);
const concat = (...parts: Uint8Array[]): Uint8Array => Buffer.concat(parts);
const i2osp2 = (n: number): Uint8Array => new Uint8Array([n >> 8, n & 0xff]);

const HPKE_V1 = ascii("HPKE-v1");
const KEM_SUITE = concat(ascii("KEM"), i2osp2(KEM_ID));
const HPKE_SUITE = concat(ascii("HPKE"), i2osp2(KEM_ID), i2osp2(KDF_ID), i2osp2(AEAD_ID));
const EMPTY = new Uint8Array(0);
const ZERO_SALT = new Uint8Array(HASH_BYTES);
const MODE_BASE = new Uint8Array([0]);

// DER wrappers of raw X25519 keys (RFC 8410): OpenSSL takes keys as SPKI / PKCS#8.
const SPKI_PREFIX = Buffer.from("302a300506032b656e032100", "hex");
const PKCS8_PREFIX = Buffer.from("302e020100300506032b656e04220420", "hex");

function publicKeyOf(raw: Uint8Array): KeyObject {
  if (raw.length !== X25519_BYTES) throw new Error(`X25519 public key: ${raw.length} bytes`);
  return createPublicKey({ key: Buffer.concat([SPKI_PREFIX, raw]), format: "der", type: "spki" });
}

function privateKeyOf(raw: Uint8Array): KeyObject {
  if (raw.length !== X25519_BYTES) throw new Error(`X25519 secret key: ${raw.length} bytes`);
  return createPrivateKey({
    key: Buffer.concat([PKCS8_PREFIX, raw]),
    format: "der",
    type: "pkcs8",
  });
}

function rawPublicKey(key: KeyObject): Uint8Array {
  return new Uint8Array(key.export({ format: "der", type: "spki" }).subarray(SPKI_PREFIX.length));
}

/** DH(sk, pk), refusing the all-zero output of a low-order point (RFC 9180 §7.1.4). */
function dh(privateKey: KeyObject, publicKey: KeyObject): Uint8Array {
  const shared = new Uint8Array(diffieHellman({ privateKey, publicKey }));
  if (shared.every((b) => b === 0)) throw new Error("X25519: the shared secret is all zeros");
  return shared;
}

const TAG_BYTES = 16;

function chachaSeal(
  key: Uint8Array,
  nonce: Uint8Array,
  aad: Uint8Array,
  plaintext: Uint8Array,
): Uint8Array {
  const cipher = createCipheriv("chacha20-poly1305", key, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad, { plaintextLength: plaintext.length });
  return new Uint8Array(
    Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]),
  );
}

/** ChaCha20-Poly1305 (RFC 8439), the tag after the ciphertext. Throws when the tag does not match (another key, nonce or aad, or a changed byte). */
function chachaOpen(
  key: Uint8Array,
  nonce: Uint8Array,
  aad: Uint8Array,
  sealed: Uint8Array,
): Uint8Array {
  if (sealed.length < TAG_BYTES) throw new Error("ChaCha20-Poly1305: shorter than a tag");
  const body = sealed.subarray(0, sealed.length - TAG_BYTES);
  const decipher = createDecipheriv("chacha20-poly1305", key, nonce, {
    authTagLength: TAG_BYTES,
  });
  decipher.setAAD(aad, { plaintextLength: body.length });
  decipher.setAuthTag(sealed.subarray(body.length));
  return new Uint8Array(Buffer.concat([decipher.update(body), decipher.final()]));
}

const hmac = (key: Uint8Array, data: Uint8Array): Uint8Array =>
  new Uint8Array(createHmac("sha256", key).update(data).digest());

function labeledExtract(
  suite: Uint8Array,
  salt: Uint8Array,
  label: string,
  ikm: Uint8Array,
): Uint8Array {
  return hmac(salt.length === 0 ? ZERO_SALT : salt, concat(HPKE_V1, suite, ascii(label), ikm));
}

/** HKDF-Expand (RFC 5869) of the labeled info, `length` <= 255 * 32 bytes. */
function labeledExpand(
  suite: Uint8Array,
  prk: Uint8Array,
  label: string,
  info: Uint8Array,
  length: number,
): Uint8Array {
  const labeled = concat(i2osp2(length), HPKE_V1, suite, ascii(label), info);
  const out = new Uint8Array(length);
  let block: Uint8Array = EMPTY;
  for (let i = 1, at = 0; at < length; i++) {
    block = hmac(prk, concat(block, labeled, new Uint8Array([i])));
    out.set(block.subarray(0, Math.min(HASH_BYTES, length - at)), at);
    at += HASH_BYTES;
  }
  return out;
}

/** ExtractAndExpand of DHKEM, over dh and kem_context = enc || pkR. */
function kemSharedSecret(dhOut: Uint8Array, enc: Uint8Array, pkR: Uint8Array): Uint8Array {
  const prk = labeledExtract(KEM_SUITE, EMPTY, "eae_prk", dhOut);
  return labeledExpand(KEM_SUITE, prk, "shared_secret", concat(enc, pkR), HASH_BYTES);
}

interface Schedule {
  key: Uint8Array;
  baseNonce: Uint8Array;
  exporterSecret: Uint8Array;
}

/** KeySchedule in base mode (no PSK). */
function keySchedule(sharedSecret: Uint8Array, info: Uint8Array): Schedule {
  const pskIdHash = labeledExtract(HPKE_SUITE, EMPTY, "psk_id_hash", EMPTY);
  const infoHash = labeledExtract(HPKE_SUITE, EMPTY, "info_hash", info);
  const context = concat(MODE_BASE, pskIdHash, infoHash);
  const secret = labeledExtract(HPKE_SUITE, sharedSecret, "secret", EMPTY);
  return {
    key: labeledExpand(HPKE_SUITE, secret, "key", context, KEY_BYTES),
    baseNonce: labeledExpand(HPKE_SUITE, secret, "base_nonce", context, NONCE_BYTES),
    exporterSecret: labeledExpand(HPKE_SUITE, secret, "exp", context, HASH_BYTES),
  };
}

const exportSecret = (s: Schedule, context: Uint8Array, length: number): Uint8Array =>
  labeledExpand(HPKE_SUITE, s.exporterSecret, "sec", context, length);

export interface HpkeSealed {
  /** The encapsulated key: the ephemeral X25519 public key. */
  enc: Uint8Array;
  /** ChaCha20-Poly1305 ciphertext and its 16-byte tag. */
  ciphertext: Uint8Array;
  /** The secret exported for `exportContext`. */
  exported: Uint8Array;
}

/** SealBase (sequence number 0) to `recipientPublicKey`, then Export(exportContext, exportLength). */
export function hpkeSeal(
  recipientPublicKey: Uint8Array,
  message: { info: Uint8Array; aad: Uint8Array; plaintext: Uint8Array },
  exportContext: Uint8Array,
  exportLength: number,
): HpkeSealed {
  const pkR = publicKeyOf(recipientPublicKey);
  const ephemeral = generateKeyPairSync("x25519");
  const enc = rawPublicKey(ephemeral.publicKey);
  const shared = kemSharedSecret(dh(ephemeral.privateKey, pkR), enc, recipientPublicKey);
  const schedule = keySchedule(shared, message.info);
  const ciphertext = chachaSeal(schedule.key, schedule.baseNonce, message.aad, message.plaintext);
  return { enc, ciphertext, exported: exportSecret(schedule, exportContext, exportLength) };
}

/**
 * OpenBase (sequence number 0) with the recipient's X25519 secret, then Export. Throws when the
 * ciphertext does not open (wrong key, info, aad or a changed byte); callers say no more than that.
 */
export function hpkeOpen(
  recipientSecret: Uint8Array,
  message: { enc: Uint8Array; info: Uint8Array; aad: Uint8Array; ciphertext: Uint8Array },
  exportContext: Uint8Array,
  exportLength: number,
): { plaintext: Uint8Array; exported: Uint8Array } {
  const skR = privateKeyOf(recipientSecret);
  const pkR = rawPublicKey(createPublicKey(skR));
  const shared = kemSharedSecret(dh(skR, publicKeyOf(message.enc)), message.enc, pkR);
  const schedule = keySchedule(shared, message.info);
  const plaintext = chachaOpen(schedule.key, schedule.baseNonce, message.aad, message.ciphertext);
  return { plaintext, exported: exportSecret(schedule, exportContext, exportLength) };
}
