import { describe, expect, it } from "vitest";
import { type JobBinding, ProtocolError } from "../src/index.ts";
import { encryptionPublicKey, generateMachineSecrets } from "../src/keys.ts";
import { openRequest, parseEnvelope, sealRequest } from "../src/request.ts";

const binding: JobBinding = {
  escrow: "escrow.test.near",
  client: "alice.test.near",
  machine_id: "3",
  model: "ab".repeat(32),
  keyset_sha256: "cd".repeat(32),
};
const chat = {
  model: "tiny-llama",
  messages: [{ role: "user" as const, content: "the secret prompt: 42 bananas" }],
  max_tokens: 16,
};

async function rejectsWith(promise: Promise<unknown>, code: string): Promise<void> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ProtocolError);
  expect((error as ProtocolError).code).toBe(code);
}

describe("request envelope (HPKE X25519 / HKDF-SHA256 / ChaCha20-Poly1305)", () => {
  const machine = generateMachineSecrets();
  const key = encryptionPublicKey(machine.encryption);

  it("opens inside the machine with the same request and response key, and hides the prompt", async () => {
    const sealed = await sealRequest(binding, key, chat);
    expect(Buffer.from(sealed.envelope).toString()).not.toContain("secret prompt");
    expect(Buffer.from(sealed.envelope).toString()).not.toContain("bananas");
    const opened = await openRequest(binding, sealed.envelope, machine.encryption);
    expect(opened.request).toEqual(chat);
    expect(opened.requestId).toBe(sealed.requestId);
    expect(opened.inputHash).toBe(sealed.inputHash);
    expect(Buffer.from(opened.responseKey).equals(Buffer.from(sealed.responseKey))).toBe(true);
  });

  it("gives a fresh request id, encapsulated key and response key every time", async () => {
    const a = await sealRequest(binding, key, chat);
    const b = await sealRequest(binding, key, chat);
    expect(a.requestId).not.toBe(b.requestId);
    expect(a.inputHash).not.toBe(b.inputHash);
    expect(Buffer.from(a.responseKey).equals(Buffer.from(b.responseKey))).toBe(false);
  });

  for (const field of Object.keys(binding) as (keyof JobBinding)[]) {
    it(`does not open for a job with another ${field} (no replay into another job)`, async () => {
      const sealed = await sealRequest(binding, key, chat);
      const other = { ...binding, [field]: field === "machine_id" ? "4" : `${binding[field]}x` };
      await rejectsWith(openRequest(other, sealed.envelope, machine.encryption), "decrypt_failed");
    });
  }

  it("does not open with another machine's key", async () => {
    const sealed = await sealRequest(binding, key, chat);
    const other = generateMachineSecrets();
    await rejectsWith(openRequest(binding, sealed.envelope, other.encryption), "decrypt_failed");
  });

  it("refuses a tampered, re-spelt or oversized envelope", async () => {
    const sealed = await sealRequest(binding, key, chat);
    const json = JSON.parse(Buffer.from(sealed.envelope).toString());
    const flipped = Buffer.from(json.ciphertext, "base64");
    flipped[0] = (flipped[0] ?? 0) ^ 1;
    const tampered = Buffer.from(
      JSON.stringify({ ...json, ciphertext: flipped.toString("base64") }),
    );
    // JSON.stringify keeps the insertion order, which is the canonical one here.
    await rejectsWith(openRequest(binding, tampered, machine.encryption), "decrypt_failed");
    const spaced = Buffer.from(JSON.stringify(json, null, 1));
    expect(() => parseEnvelope(spaced)).toThrow(/canonical/);
    expect(() => parseEnvelope(Buffer.from("{}"))).toThrow(/expected/);
    // Node's base64 decoder skips characters it does not know; the envelope must not.
    const skipped = Buffer.from(JSON.stringify({ ...json, ciphertext: `${json.ciphertext}*` }));
    await rejectsWith(openRequest(binding, skipped, machine.encryption), "bad_envelope");
    expect(() => parseEnvelope(Buffer.from([0xff, 0xfe]))).toThrow(/UTF-8 JSON/);
    expect(() => parseEnvelope(new Uint8Array(8 * 1024 * 1024 + 1))).toThrow(/at most/);
  });

  it("validates the chat request before encrypting, naming the field", async () => {
    await expect(sealRequest(binding, key, { ...chat, max_tokens: 0 })).rejects.toThrow(
      /request.max_tokens/,
    );
    await expect(
      sealRequest(binding, key, { ...chat, messages: [{ role: "root", content: "x" }] } as never),
    ).rejects.toThrow(/messages\[0\].role/);
    await expect(sealRequest(binding, "x25519:00", chat)).rejects.toThrow(/encryption_key/);
  });
});
