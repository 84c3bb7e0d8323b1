import { describe, expect, test } from "vitest";
import { amountDue, splitPayment } from "../src/money.ts";

const U128_MAX = (1n << 128n) - 1n;

describe("amountDue", () => {
  test("is usage x price while below the maximum", () => {
    expect(amountDue(1_000n, 7n, 100n)).toBe(700n);
  });

  test("is capped at the maximum when usage x price exceeds it", () => {
    expect(amountDue(1_000n, 11n, 100n)).toBe(1_000n);
    expect(amountDue(1_000n, U128_MAX, U128_MAX)).toBe(1_000n);
  });

  test("is zero for zero usage or a zero price", () => {
    expect(amountDue(1_000n, 0n, 100n)).toBe(0n);
    expect(amountDue(1_000n, 5n, 0n)).toBe(0n);
  });
});

describe("splitPayment", () => {
  test("takes the fee from the paid part and refunds the rest", () => {
    expect(splitPayment(10_000n, 7_000n, 250)).toEqual({
      provider: 6_825n,
      fee: 175n,
      refund: 3_000n,
    });
  });

  test("rounds the fee down, in the provider's favour", () => {
    expect(splitPayment(100n, 99n, 100)).toEqual({ provider: 99n, fee: 0n, refund: 1n });
  });

  test("always sums to the maximum", () => {
    for (const [max, paid, bps] of [
      [U128_MAX, U128_MAX, 10_000],
      [U128_MAX, 12_345n, 1],
      [5n, 0n, 500],
      [10n ** 24n, 10n ** 23n + 7n, 333],
    ] as const) {
      const split = splitPayment(max, paid, bps);
      expect(split.provider + split.fee + split.refund).toBe(max);
      expect(split.fee).toBe((paid * BigInt(bps)) / 10_000n);
    }
  });

  test("a 100% fee leaves the provider nothing", () => {
    expect(splitPayment(50n, 40n, 10_000)).toEqual({ provider: 0n, fee: 40n, refund: 10n });
  });

  test("refuses to pay more than the maximum or a negative amount", () => {
    expect(() => splitPayment(10n, 11n, 0)).toThrow(/outside 0..10/);
    expect(() => splitPayment(10n, -1n, 0)).toThrow(/outside/);
  });
});
