/**
 * The market's HPKE (src/hpke.ts) against an independent implementation of RFC 9180, @hpke/core
 * (WebCrypto X25519, its own key schedule): each side opens what the other sealed and both derive
 * the same exported secrets, so a difference anywhere in the KEM, the key schedule, the nonce or
 * the AEAD would fail here. Then the refusals.
 */
import { Chacha20Poly1305 } from "@hpke/chacha20poly1305";
import { CipherSuite, DhkemX25519HkdfSha256, HkdfSha256 } from "@hpke/core";
import { describe, expect, it } from "vitest";
import { hpkeOpen, hpkeSeal } from "../src/hpke.ts";
import { encryptionPublicKey, generateMachineSecrets, parseEncryptionKey } from "../src/keys.ts";

const reference = new CipherSuite({
  kem: new DhkemX25519HkdfSha256(),
  kdf: new HkdfSha256(),
  aead: new Chacha20Poly1305(),
});
const text = new TextEncoder();
const info = text.encode("gpumarket/v1/request test info");
const aad = text.encode("the request id and binding");
const exportContext = text.encode("gpumarket/v1/response");

function recipient() {
  const secrets = generateMachineSecrets();
  return {
    secret: secrets.encryption,
    publicKey: parseEncryptionKey(encryptionPublicKey(secrets.encryption), "key"),
  };
}

describe("HPKE base mode, DHKEM(X25519, HKDF-SHA256) / HKDF-SHA256 / ChaCha20-Poly1305", () => {
  // Empty, one byte, and sizes across ChaCha20's 64-byte blocks and a 10 KB request.
  for (const size of [0, 1, 63, 64, 65, 10_240]) {
    it(`@hpke/core opens what this seals, ${size} bytes, and exports the same secrets`, async () => {
      const r = recipient();
      const plaintext = new Uint8Array(size).map((_, i) => (i * 31 + 7) & 0xff);
      // 32 bytes is one HKDF block; 80 spans three.
      for (const length of [32, 80]) {
        const sealed = hpkeSeal(r.publicKey, { info, aad, plaintext }, exportContext, length);
        expect(sealed.enc).toHaveLength(32);
        expect(sealed.ciphertext).toHaveLength(size + 16);
        const ctx = await reference.createRecipientContext({
          recipientKey: await reference.kem.deserializePrivateKey(r.secret),
          enc: sealed.enc,
          info,
        });
        expect(new Uint8Array(await ctx.open(sealed.ciphertext, aad))).toEqual(plaintext);
        expect(new Uint8Array(await ctx.export(exportContext, length))).toEqual(sealed.exported);
      }
    });
  }

  it("opens what @hpke/core sealed, with the same exported secret", async () => {
    const r = recipient();
    const plaintext = text.encode(JSON.stringify({ messages: [{ content: "42 bananas" }] }));
    const sender = await reference.createSenderContext({
      recipientPublicKey: await reference.kem.deserializePublicKey(r.publicKey),
      info,
    });
    const ciphertext = new Uint8Array(await sender.seal(plaintext, aad));
    const opened = hpkeOpen(
      r.secret,
      { enc: new Uint8Array(sender.enc), info, aad, ciphertext },
      exportContext,
      32,
    );
    expect(opened.plaintext).toEqual(plaintext);
    expect(opened.exported).toEqual(new Uint8Array(await sender.export(exportContext, 32)));
  });

  it("a fresh ephemeral key per seal: the same message never gives the same enc or ciphertext", () => {
    const r = recipient();
    const plaintext = text.encode("same");
    const a = hpkeSeal(r.publicKey, { info, aad, plaintext }, exportContext, 32);
    const b = hpkeSeal(r.publicKey, { info, aad, plaintext }, exportContext, 32);
    expect(a.enc).not.toEqual(b.enc);
    expect(a.ciphertext).not.toEqual(b.ciphertext);
    expect(a.exported).not.toEqual(b.exported);
  });

  it("refuses another key, info or aad, any changed byte, a short ciphertext and a low-order enc", () => {
    const r = recipient();
    const plaintext = text.encode("the secret prompt");
    const sealed = hpkeSeal(r.publicKey, { info, aad, plaintext }, exportContext, 32);
    const open = (
      change: Partial<{ secret: Uint8Array; enc: Uint8Array; info: Uint8Array; aad: Uint8Array }>,
      ciphertext = sealed.ciphertext,
    ) =>
      hpkeOpen(
        change.secret ?? r.secret,
        {
          enc: change.enc ?? sealed.enc,
          info: change.info ?? info,
          aad: change.aad ?? aad,
          ciphertext,
        },
        exportContext,
        32,
      );
    expect(open({}).plaintext).toEqual(plaintext);
    expect(() => open({ secret: recipient().secret })).toThrow();
    expect(() => open({ info: text.encode("another job") })).toThrow();
    expect(() => open({ aad: text.encode("another request") })).toThrow();
    for (const at of [0, plaintext.length - 1, sealed.ciphertext.length - 1]) {
      const changed = new Uint8Array(sealed.ciphertext);
      changed[at] = (changed[at] as number) ^ 1;
      expect(() => open({}, changed)).toThrow();
    }
    const enc = new Uint8Array(sealed.enc);
    enc[0] = (enc[0] as number) ^ 1;
    expect(() => open({ enc })).toThrow();
    expect(() => open({}, sealed.ciphertext.subarray(0, 15))).toThrow("shorter than a tag");
    // The all-zero point is of low order: DH gives zeros, which RFC 9180 §7.1.4 refuses.
    expect(() => open({ enc: new Uint8Array(32) })).toThrow();
    expect(() => open({ enc: new Uint8Array(31) })).toThrow("X25519 public key: 31 bytes");
  });
});
