import { describe, expect, test } from "vitest";
import { resultPreimage } from "../src/result-message.ts";

const HASH = "ab".repeat(32);

describe("resultPreimage", () => {
  test("is the ASCII of domain, escrow, job id, result hash and usage joined by zero bytes", () => {
    const bytes = resultPreimage("escrow.test.near", "42", HASH, "1000");
    const expected = Buffer.concat([
      Buffer.from("gpumarket/v1/result"),
      Buffer.from([0]),
      Buffer.from("escrow.test.near"),
      Buffer.from([0]),
      Buffer.from("42"),
      Buffer.from([0]),
      Buffer.from(HASH),
      Buffer.from([0]),
      Buffer.from("1000"),
    ]);
    expect(Buffer.from(bytes).equals(expected)).toBe(true);
  });

  test("differs for another job, escrow, result or usage", () => {
    const base = Buffer.from(resultPreimage("escrow.near", "1", HASH, "10")).toString("hex");
    const variants = [
      resultPreimage("escrow2.near", "1", HASH, "10"),
      resultPreimage("escrow.near", "2", HASH, "10"),
      resultPreimage("escrow.near", "1", "cd".repeat(32), "10"),
      resultPreimage("escrow.near", "1", HASH, "11"),
      // The separators keep fields from running into each other.
      resultPreimage("escrow.near", "11", HASH, "0"),
    ];
    for (const variant of variants) {
      expect(Buffer.from(variant).toString("hex")).not.toBe(base);
    }
  });

  test("rejects non-ASCII input", () => {
    expect(() => resultPreimage("é.near", "1", HASH, "1")).toThrow(/not ASCII/);
  });
});
