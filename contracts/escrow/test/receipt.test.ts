import { describe, expect, test } from "vitest";
import { parseReceipt, receiptUsage } from "../src/receipt.ts";

const RECEIPT = {
  model: "llama-3.1-8b-instruct:q4_k_m",
  weights_sha256: "aa".repeat(32),
  request_sha256: "bb".repeat(32),
  response_sha256: "cc".repeat(32),
  prompt_tokens: "120",
  completion_tokens: "18446744073709551615",
  chunks: "3",
};

describe("parseReceipt", () => {
  test("returns the receipt's fields unchanged", () => {
    expect(parseReceipt({ ...RECEIPT })).toEqual(RECEIPT);
  });

  test("usage is prompt plus completion tokens, beyond u64 if need be", () => {
    expect(receiptUsage(parseReceipt(RECEIPT))).toBe(120n + 18446744073709551615n);
  });

  test("refuses a missing or unknown field, naming it", () => {
    const { chunks: _, ...withoutChunks } = RECEIPT;
    expect(() => parseReceipt(withoutChunks)).toThrow(/receipt\.chunks: expected a u64/);
    expect(() => parseReceipt({ ...RECEIPT, usage: "1" })).toThrow(
      /receipt: unknown field "usage"/,
    );
    expect(() => parseReceipt("x")).toThrow(/receipt: expected an object, got string/);
  });

  test("refuses model names outside the attested models' rule", () => {
    for (const model of ["", "-starts-with-dash", "has space", "ü", "a".repeat(65)]) {
      expect(() => parseReceipt({ ...RECEIPT, model })).toThrow(/receipt\.model:/);
    }
    expect(() => parseReceipt({ ...RECEIPT, model: 7 })).toThrow(
      /receipt\.model: expected a string, got number/,
    );
    expect(parseReceipt({ ...RECEIPT, model: "a".repeat(64) }).model).toHaveLength(64);
  });

  test("refuses hashes that are not 64 lowercase hex digits", () => {
    for (const field of ["weights_sha256", "request_sha256", "response_sha256"]) {
      expect(() => parseReceipt({ ...RECEIPT, [field]: "AA".repeat(32) })).toThrow(
        new RegExp(`receipt\\.${field}: expected lowercase hex`),
      );
      expect(() => parseReceipt({ ...RECEIPT, [field]: "aa".repeat(31) })).toThrow(
        new RegExp(`receipt\\.${field}: length must be 64 to 64`),
      );
    }
  });

  test("refuses counts that are not canonical u64 decimal strings", () => {
    for (const field of ["prompt_tokens", "completion_tokens", "chunks"]) {
      for (const bad of [12, "012", "-1", "1.5", "18446744073709551616"]) {
        expect(() => parseReceipt({ ...RECEIPT, [field]: bad })).toThrow(
          new RegExp(`receipt\\.${field}:`),
        );
      }
    }
  });
});
