/** ECDSA P-256 / SHA-256 checks on raw r||s signatures, as Intel's quotes and collateral carry them. */
import { p256 } from "@noble/curves/nist.js";
import type { X509Certificate } from "./x509.ts";

/** The uncompressed SEC1 point (0x04 || x || y) of a certificate's P-256 key. */
export function p256PointOf(cert: X509Certificate): Uint8Array {
  const spki = new Uint8Array(cert.publicKey.rawData);
  // An uncompressed P-256 SubjectPublicKeyInfo ends with the 65-byte point.
  const point = spki.subarray(spki.length - 65);
  if (point[0] !== 0x04) {
    throw new Error(`certificate ${cert.subject}: public key is not an uncompressed P-256 point`);
  }
  return point;
}

/** Verifies a 64-byte r||s signature over sha256(message). High-S values are valid for Intel. */
export function verifyP256(signature: Uint8Array, message: Uint8Array, point: Uint8Array): boolean {
  if (signature.length !== 64) {
    return false;
  }
  try {
    return p256.verify(signature, message, point, { lowS: false, prehash: true });
  } catch {
    return false;
  }
}

/** A raw x || y attestation key (64 bytes) as an uncompressed point. */
export function rawKeyToPoint(raw: Uint8Array): Uint8Array {
  const point = new Uint8Array(65);
  point[0] = 0x04;
  point.set(raw, 1);
  return point;
}
