/**
 * REPORTDATA and the GPU nonce from a machine's keyset, against an independent computation of the
 * layout in contracts/common/src/inference-messages.ts (canonical JSON by hand, node:crypto).
 */
import { createHash } from "node:crypto";
import { base58 } from "@scure/base";
import { describe, expect, test } from "vitest";
import { expectedReportData, gpuNonce, type Keyset, keysetSha256 } from "../src/report-data.ts";

const NONCE = "11".repeat(32);
const KEYSET: Keyset = {
  account: "alice.test.near",
  registry: "registry.test.near",
  signing_key: `ed25519:${base58.encode(new Uint8Array(32).fill(7))}`,
  encryption_key: `x25519:${"ab".repeat(32)}`,
  models: [
    { name: "llama-3.1-8b-instruct", weights_sha256: "cd".repeat(32) },
    { name: "qwen2.5-7b-instruct", weights_sha256: "ef".repeat(32) },
  ],
};

const sha256 = (data: string | Buffer): string => createHash("sha256").update(data).digest("hex");

/** The keyset document with its keys sorted and no whitespace, written out by hand. */
function documentOf(k: Keyset): string {
  const models = k.models
    .map((m) => `{"name":"${m.name}","weights_sha256":"${m.weights_sha256}"}`)
    .join(",");
  return (
    `{"account":"${k.account}","encryption_key":"${k.encryption_key}","models":[${models}],` +
    `"registry":"${k.registry}","signing_key":"${k.signing_key}","version":"gpumarket/v1/keyset"}`
  );
}

describe("keyset_sha256", () => {
  test("is sha256 of the canonical keyset document", () => {
    expect(keysetSha256(KEYSET)).toBe(sha256(documentOf(KEYSET)));
  });

  test("changes with every field: account, registry, either key, a model", () => {
    const base = keysetSha256(KEYSET);
    const variants: Keyset[] = [
      { ...KEYSET, account: "bob.test.near" },
      { ...KEYSET, registry: "registry2.test.near" },
      { ...KEYSET, signing_key: `ed25519:${base58.encode(new Uint8Array(32).fill(8))}` },
      { ...KEYSET, encryption_key: `x25519:${"ac".repeat(32)}` },
      { ...KEYSET, models: KEYSET.models.slice(0, 1) },
      {
        ...KEYSET,
        models: [
          KEYSET.models[0],
          { name: "qwen2.5-7b-instruct", weights_sha256: "ee".repeat(32) },
        ],
      } as Keyset,
    ];
    const hashes = variants.map(keysetSha256);
    expect(new Set([base, ...hashes]).size).toBe(variants.length + 1);
  });

  test("names each bad field", () => {
    expect(() => keysetSha256({ ...KEYSET, account: "Bad!" })).toThrow(
      'account: "Bad!" is not a NEAR account id',
    );
    expect(() => keysetSha256({ ...KEYSET, registry: "x" })).toThrow(
      'registry: "x" is not a NEAR account id',
    );
    expect(() => keysetSha256({ ...KEYSET, signing_key: "ed25519:11" })).toThrow(
      /an ed25519 key is 32 bytes/,
    );
    expect(() => keysetSha256({ ...KEYSET, encryption_key: `x25519:${"AB".repeat(32)}` })).toThrow(
      /encryption_key: .* is not "x25519:" and 64 lowercase hex digits/,
    );
    expect(() => keysetSha256({ ...KEYSET, models: [...KEYSET.models].reverse() })).toThrow(
      /models: names must be unique and sorted/,
    );
    expect(() => keysetSha256({ ...KEYSET, models: [] })).toThrow(
      "models: expected 1 to 16 entries, got 0",
    );
  });
});

describe("REPORTDATA", () => {
  test("is the keyset's sha256, then the challenge nonce", () => {
    const keyset = keysetSha256(KEYSET);
    expect(expectedReportData(keyset, NONCE)).toBe(`${keyset}${NONCE}`);
  });

  test("names a bad keyset hash or nonce", () => {
    expect(() => expectedReportData("ab", NONCE)).toThrow("keyset_sha256: expected 32 bytes");
    expect(() => expectedReportData(NONCE, "zz")).toThrow('nonce: expected hex, got "zz"');
  });
});

describe("GPU nonce", () => {
  test('is sha256("gpumarket/v1/gpu-nonce" || 0 || keyset_sha256 || nonce)', () => {
    const keyset = keysetSha256(KEYSET);
    const expected = sha256(
      Buffer.concat([
        Buffer.from("gpumarket/v1/gpu-nonce"),
        Buffer.from([0]),
        Buffer.from(keyset, "hex"),
        Buffer.from(NONCE, "hex"),
      ]),
    );
    expect(gpuNonce(keyset, NONCE)).toBe(expected);
    // Neither the challenge nonce nor REPORTDATA's halves: a token for one keyset fits no other.
    expect(gpuNonce(keyset, NONCE)).not.toBe(NONCE);
    expect(gpuNonce(keysetSha256({ ...KEYSET, account: "bob.test.near" }), NONCE)).not.toBe(
      expected,
    );
  });
});
