/**
 * The one HPKE suite of the market (RFC 9180, base mode): DHKEM(X25519, HKDF-SHA256),
 * HKDF-SHA256, ChaCha20-Poly1305. HPKE itself (the DHKEM's encap/decap, the labeled key schedule,
 * the AEAD contexts and the exporter) is the maintained @hpke packages' code. Only the primitives
 * under it are swapped for synchronous ones, because @hpke/core's defaults go through async
 * WebCrypto, a thread-pool hop per call, about 20 of them per request (1 ms on this CPU):
 *   - X25519 on Node's OpenSSL (x25519.ts) in @hpke/common's X-curve KEM primitives;
 *   - HKDF-SHA256 from @noble/hashes under @hpke/core's HkdfSha256.
 * test/suite.test.ts checks it against RFC 9180's vector A.2.1 and @hpke/core's stock suite.
 */
import { Chacha20Poly1305 } from "@hpke/chacha20poly1305";
import { Dhkem, KemId, XCurveDhkemPrimitives } from "@hpke/common";
import { CipherSuite, HkdfSha256 } from "@hpke/core";
import { expand, extract } from "@noble/hashes/hkdf.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { nativeX25519 } from "./x25519.ts";

type Bytes = ArrayBufferLike | ArrayBufferView;

function view(bytes: Bytes): Uint8Array {
  return ArrayBuffer.isView(bytes)
    ? new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    : new Uint8Array(bytes);
}

function arrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.slice().buffer;
}

/** @hpke/core's HKDF-SHA256 (labels, suite id, checks) with RFC 5869's two steps done synchronously. */
class SyncHkdfSha256 extends HkdfSha256 {
  override async extract(salt: Bytes, ikm: Bytes): Promise<ArrayBuffer> {
    // An empty salt means hashSize zero bytes (RFC 5869 section 2.2); noble reads "no salt" the same.
    const saltBytes = view(salt);
    return arrayBuffer(extract(sha256, view(ikm), saltBytes.length === 0 ? undefined : saltBytes));
  }

  override async expand(prk: Bytes, info: Bytes, len: number): Promise<ArrayBuffer> {
    return arrayBuffer(expand(sha256, view(prk), view(info), len));
  }

  override async extractAndExpand(salt: Bytes, ikm: Bytes, info: Bytes, len: number) {
    return this.expand(await this.extract(salt, ikm), info, len);
  }
}

/** DHKEM(X25519, HKDF-SHA256), KEM id 0x0020: @hpke/common's DHKEM over the native curve. */
class DhkemX25519 extends Dhkem {
  override readonly secretSize = 32;
  override readonly encSize = 32;
  override readonly publicKeySize = 32;
  override readonly privateKeySize = 32;

  constructor() {
    const kdf = new SyncHkdfSha256();
    super(
      KemId.DhkemX25519HkdfSha256,
      new XCurveDhkemPrimitives("X25519", 32, nativeX25519, kdf),
      kdf,
    );
  }
}

export const suite = new CipherSuite({
  kem: new DhkemX25519(),
  kdf: new SyncHkdfSha256(),
  aead: new Chacha20Poly1305(),
});
