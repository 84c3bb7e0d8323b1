import { Chacha20Poly1305 } from "@hpke/chacha20poly1305";
import { CipherSuite, DhkemX25519HkdfSha256, HkdfSha256 } from "@hpke/core";
import { describe, expect, it } from "vitest";
import { suite } from "../src/suite.ts";
import { nativeX25519 } from "../src/x25519.ts";

const hex = (text: string) => new Uint8Array(Buffer.from(text, "hex"));
const toHex = (bytes: ArrayBuffer | Uint8Array) =>
  Buffer.from(new Uint8Array(bytes)).toString("hex");

// RFC 9180 appendix A.2.1: DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, ChaCha20Poly1305, base mode.
const A21 = {
  info: "4f6465206f6e2061204772656369616e2055726e",
  ikmE: "909a9b35d3dc4713a5e72a4da274b55d3d3821a37e5d099e74a647db583a904b",
  pkEm: "1afa08d3dec047a643885163f1180476fa7ddb54c6a8029ea33f95796bf2ac4a",
  ikmR: "1ac01f181fdf9f352797655161c58b75c656a6cc2716dcb66372da835542e1df",
  pkRm: "4310ee97d88cc1f088a5576c77ab0cf5c3ac797f3d95139c6c84b5429c59662a",
  skRm: "8057991eef8f1f1af18f4a9491d16a1ce333f695d4db8e38da75975c4478e0fb",
  pt: "4265617574792069732074727574682c20747275746820626561757479",
  encryptions: [
    {
      aad: "436f756e742d30",
      ct: "1c5250d8034ec2b784ba2cfd69dbdb8af406cfe3ff938e131f0def8c8b60b4db21993c62ce81883d2dd1b51a28",
    },
    {
      aad: "436f756e742d31",
      ct: "6b53c051e4199c518de79594e1c4ab18b96f081549d45ce015be002090bb119e85285337cc95ba5f59992dc98c",
    },
    {
      aad: "436f756e742d32",
      ct: "71146bd6795ccc9c49ce25dda112a48f202ad220559502cef1f34271e0cb4b02b4f10ecac6f48c32f878fae86b",
    },
  ],
  exports: [
    { context: "", value: "4bbd6243b8bb54cec311fac9df81841b6fd61f56538a775e7c80a9f40160606e" },
    { context: "00", value: "8c1df14732580e5501b00f82b10a1647b40713191b7c1240ac80e2b68808ba69" },
    {
      context: "54657374436f6e74657874",
      value: "5acb09211139c43b3090489a9da433e8a30ee7188ba8b0a9a1ccf0c229283e53",
    },
  ],
};

// @hpke/core's stock suite (WebCrypto X25519 and HKDF): what the market's suite must agree with.
const stock = new CipherSuite({
  kem: new DhkemX25519HkdfSha256(),
  kdf: new HkdfSha256(),
  aead: new Chacha20Poly1305(),
});

describe("the market's HPKE suite", () => {
  it("reproduces RFC 9180's test vector A.2.1 as sender and as recipient", async () => {
    const recipientKeys = await suite.kem.deriveKeyPair(hex(A21.ikmR));
    expect(toHex(await suite.kem.serializePublicKey(recipientKeys.publicKey))).toBe(A21.pkRm);
    expect(toHex(await suite.kem.serializePrivateKey(recipientKeys.privateKey))).toBe(A21.skRm);

    const sender = await suite.createSenderContext({
      recipientPublicKey: await suite.kem.deserializePublicKey(hex(A21.pkRm)),
      info: hex(A21.info),
      ekm: hex(A21.ikmE),
    });
    expect(toHex(sender.enc)).toBe(A21.pkEm);
    const recipient = await suite.createRecipientContext({
      recipientKey: await suite.kem.deserializePrivateKey(hex(A21.skRm)),
      enc: hex(A21.pkEm),
      info: hex(A21.info),
    });
    for (const { aad, ct } of A21.encryptions) {
      expect(toHex(await sender.seal(hex(A21.pt), hex(aad)))).toBe(ct);
      expect(toHex(await recipient.open(hex(ct), hex(aad)))).toBe(A21.pt);
    }
    for (const { context, value } of A21.exports) {
      expect(toHex(await sender.export(hex(context), 32))).toBe(value);
      expect(toHex(await recipient.export(hex(context), 32))).toBe(value);
    }
  });

  it("interoperates with @hpke/core's stock suite both ways, exports included", async () => {
    const info = new TextEncoder().encode("escrow.test.near/7");
    const aad = new TextEncoder().encode("metadata");
    const plaintext = new Uint8Array(10 * 1024).map((_, i) => i % 251);
    for (const [from, to] of [
      [suite, stock],
      [stock, suite],
    ] as const) {
      const keys = await to.kem.generateKeyPair();
      const sender = await from.createSenderContext({
        recipientPublicKey: await from.kem.deserializePublicKey(
          await to.kem.serializePublicKey(keys.publicKey),
        ),
        info,
      });
      const ciphertext = await sender.seal(plaintext, aad);
      const recipient = await to.createRecipientContext({
        recipientKey: keys,
        enc: sender.enc,
        info,
      });
      expect(new Uint8Array(await recipient.open(ciphertext, aad))).toEqual(plaintext);
      expect(toHex(await recipient.export(aad, 32))).toBe(toHex(await sender.export(aad, 32)));
    }
  });

  it("refuses a low-order public key (an all-zero shared secret) and keys of the wrong length", async () => {
    const zeroPoint = await suite.kem.deserializePublicKey(new Uint8Array(32));
    await expect(suite.createSenderContext({ recipientPublicKey: zeroPoint })).rejects.toThrow();
    await expect(suite.kem.deserializePublicKey(new Uint8Array(31))).rejects.toThrow();
    expect(() => nativeX25519.getPublicKey(new Uint8Array(33))).toThrow(
      "x25519: secret key must be 32 bytes, got 33",
    );
  });

  it("computes X25519 as RFC 7748 section 6.1 gives it", () => {
    const aliceSecret = hex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
    const bobPublic = hex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
    expect(toHex(nativeX25519.getPublicKey(aliceSecret))).toBe(
      "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a",
    );
    expect(toHex(nativeX25519.getSharedSecret(aliceSecret, bobPublic))).toBe(
      "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742",
    );
  });
});
