import { sha256 } from "@noble/hashes/sha2.js";
import { describe, expect, it } from "vitest";
import { canonicalJson } from "../src/canonical-json.ts";
import {
  failureBytes,
  keysetBytes,
  parseEncryptionKey,
  parseModels,
  receiptBytes,
  reportDataBytes,
} from "../src/inference-messages.ts";

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");
const text = (bytes: Uint8Array) => Buffer.from(bytes).toString("utf8");
const W = "ab".repeat(32);

describe("canonical JSON (RFC 8785 for strings, arrays, objects)", () => {
  it("sorts keys by UTF-16 code units at every depth and adds no whitespace", () => {
    expect(canonicalJson({ b: "1", a: [{ z: "x", A: "y" }], "\u00e9": "e", B: "2" })).toBe(
      '{"B":"2","a":[{"A":"y","z":"x"}],"b":"1","\u00e9":"e"}',
    );
  });
  it("escapes strings as JSON.stringify does (RFC 8785 section 3.2.2.2)", () => {
    expect(canonicalJson({ s: 'q"\\\n\u0001' })).toBe('{"s":"q\\"\\\\\\n\\u0001"}');
  });
});

describe("keyset", () => {
  const keyset = {
    account: "alice.test.near",
    registry: "registry.test.near",
    signing_key: "ed25519:6E8sCci9badyRkXb3JoRpBj5p8C6Tw41ELDZoiihKEtp",
    encryption_key: `x25519:${"01".repeat(32)}`,
    models: [{ name: "tiny-llama", weights_sha256: W }],
  };
  it("has one byte spelling, whatever the field order given", () => {
    expect(text(keysetBytes(keyset))).toBe(
      `{"account":"alice.test.near","encryption_key":"x25519:${"01".repeat(32)}",` +
        `"models":[{"name":"tiny-llama","weights_sha256":"${W}"}],"registry":"registry.test.near",` +
        `"signing_key":"ed25519:6E8sCci9badyRkXb3JoRpBj5p8C6Tw41ELDZoiihKEtp","version":"gpumarket/v1/keyset"}`,
    );
    const reordered = { ...keyset, models: [{ weights_sha256: W, name: "tiny-llama" }] };
    expect(hex(keysetBytes(reordered))).toBe(hex(keysetBytes(keyset)));
  });
  it("puts the keyset digest and the nonce in REPORTDATA", () => {
    const digest = sha256(keysetBytes(keyset));
    const nonce = new Uint8Array(32).fill(7);
    expect(hex(reportDataBytes(digest, nonce))).toBe(hex(digest) + "07".repeat(32));
    expect(() => reportDataBytes(digest, new Uint8Array(31))).toThrow(/32-byte/);
  });
});

describe("validation", () => {
  it("takes sorted, unique models and names what is wrong", () => {
    expect(parseModels([{ name: "a", weights_sha256: W }], "models")).toHaveLength(1);
    expect(() => parseModels([], "models")).toThrow(/models: expected 1 to 16 entries/);
    expect(() =>
      parseModels(
        [
          { name: "b", weights_sha256: W },
          { name: "a", weights_sha256: W },
        ],
        "models",
      ),
    ).toThrow(/unique and sorted/);
    expect(() => parseModels([{ name: "a", weights_sha256: W.toUpperCase() }], "models")).toThrow(
      /models\[0\].weights_sha256/,
    );
    expect(() => parseModels([{ name: "a b", weights_sha256: W }], "models")).toThrow(
      /models\[0\].name/,
    );
    expect(() => parseModels([{ name: "a", weights_sha256: W, x: "1" }], "models")).toThrow(
      /unknown field "x"/,
    );
  });
  it("takes x25519:<hex> encryption keys only", () => {
    expect(parseEncryptionKey(`x25519:${"ab".repeat(32)}`, "k")).toBe(`x25519:${"ab".repeat(32)}`);
    expect(() => parseEncryptionKey(`ed25519:${"ab".repeat(32)}`, "k")).toThrow(/k:/);
    expect(() => parseEncryptionKey(`x25519:${"ab".repeat(31)}`, "k")).toThrow(/k:/);
  });
});

describe("receipt and failure", () => {
  it("sign different bytes for every field and every kind", () => {
    const receipt = {
      escrow: "escrow.test.near",
      job_id: "7",
      model: "tiny-llama",
      weights_sha256: W,
      request_sha256: "cd".repeat(32),
      response_sha256: "ef".repeat(32),
      prompt_tokens: "12",
      completion_tokens: "30",
      chunks: "3",
    };
    const base = hex(receiptBytes(receipt));
    for (const key of Object.keys(receipt) as (keyof typeof receipt)[]) {
      expect(hex(receiptBytes({ ...receipt, [key]: `${receipt[key]}0` }))).not.toBe(base);
    }
    expect(text(failureBytes({ escrow: "escrow.test.near", job_id: "7", code: "capacity" }))).toBe(
      '{"code":"capacity","escrow":"escrow.test.near","job_id":"7","version":"gpumarket/v1/failure"}',
    );
  });
});
