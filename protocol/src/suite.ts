/**
 * The one HPKE suite of the market (RFC 9180, base mode): DHKEM(X25519, HKDF-SHA256),
 * HKDF-SHA256, ChaCha20-Poly1305, from the maintained @hpke packages. @hpke/core's X25519 KEM runs
 * on Node's native WebCrypto X25519 (about twice as fast as the pure-JS @hpke/dhkem-x25519).
 */
import { Chacha20Poly1305 } from "@hpke/chacha20poly1305";
import { CipherSuite, DhkemX25519HkdfSha256, HkdfSha256 } from "@hpke/core";

export const suite = new CipherSuite({
  kem: new DhkemX25519HkdfSha256(),
  kdf: new HkdfSha256(),
  aead: new Chacha20Poly1305(),
});
