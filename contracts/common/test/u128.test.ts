import { describe, expect, test } from "vitest";
import { parseU64, parseU128, U128_MAX } from "../src/u128.ts";

describe("parseU128", () => {
  test("accepts canonical decimals from 0 to 2^128 - 1", () => {
    expect(parseU128("0", "amount")).toBe(0n);
    expect(parseU128("1000000000000000000000000", "amount")).toBe(10n ** 24n);
    expect(parseU128(U128_MAX.toString(), "amount")).toBe(U128_MAX);
  });

  test.each([
    ["340282366920938463463374607431768211456", /does not fit in u128/],
    ["+1", /not a u128 decimal string/],
    ["-1", /not a u128 decimal string/],
    ["01", /not a u128 decimal string/],
    ["1.5", /not a u128 decimal string/],
    ["1e3", /not a u128 decimal string/],
    ["", /not a u128 decimal string/],
    [" 1", /not a u128 decimal string/],
  ])("rejects %j", (value, message) => {
    expect(() => parseU128(value, "price_per_unit")).toThrow(message);
    expect(() => parseU128(value, "price_per_unit")).toThrow(/^price_per_unit: /);
  });

  test("rejects numbers: JSON numbers lose precision above 2^53", () => {
    expect(() => parseU128(5, "amount")).toThrow(
      /amount: expected a u128 decimal string, got number/,
    );
  });
});

describe("parseU64", () => {
  test("bounds at 2^64 - 1", () => {
    expect(parseU64("18446744073709551615", "machine_id")).toBe(2n ** 64n - 1n);
    expect(() => parseU64("18446744073709551616", "machine_id")).toThrow(/does not fit in u64/);
  });
});
