/** u128 amounts travel as canonical decimal strings: digits only, no sign, no leading zeros. */
import { fail } from "./errors.ts";

export const U128_MAX = (1n << 128n) - 1n;
export const U64_MAX = (1n << 64n) - 1n;

const CANONICAL_DECIMAL = /^(0|[1-9][0-9]*)$/;

function parseUnsigned(value: unknown, field: string, max: bigint, kind: string): bigint {
  if (typeof value !== "string") {
    fail(`${field}: expected a ${kind} decimal string, got ${typeof value}`);
  }
  if (value.length > 40 || !CANONICAL_DECIMAL.test(value)) {
    fail(
      `${field}: "${value}" is not a ${kind} decimal string (digits only, no sign or leading zeros)`,
    );
  }
  const parsed = BigInt(value);
  if (parsed > max) {
    fail(`${field}: ${value} does not fit in ${kind}`);
  }
  return parsed;
}

export function parseU128(value: unknown, field: string): bigint {
  return parseUnsigned(value, field, U128_MAX, "u128");
}

export function parseU64(value: unknown, field: string): bigint {
  return parseUnsigned(value, field, U64_MAX, "u64");
}
