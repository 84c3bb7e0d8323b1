/**
 * Amounts: NEAR as decimal text ("1.5") to yoctoNEAR BigInt and back, u128 decimal strings, gas
 * in Tgas. Never through JS numbers.
 */
import { usageError } from "./errors.ts";

export const YOCTO_PER_NEAR = 10n ** 24n;
export const TGAS = 10n ** 12n;
const U128_MAX = (1n << 128n) - 1n;

/** "2", "0.1", "1_000" (NEAR) to yoctoNEAR. At most 24 decimals. */
export function parseNear(text: string, what: string): bigint {
  const clean = text.trim().replaceAll("_", "");
  const match = /^(\d+)(?:\.(\d{1,24}))?$/.exec(clean);
  if (match === null) {
    throw usageError(
      `${what}: "${text}" is not an amount of NEAR`,
      'write it as a decimal number of NEAR, e.g. "2" or "0.1"',
    );
  }
  const whole = BigInt(match[1] ?? "0");
  const fraction = BigInt((match[2] ?? "").padEnd(24, "0"));
  return checkU128(whole * YOCTO_PER_NEAR + fraction, what);
}

/** A u128 in base units (yoctoNEAR or token units): digits only. */
export function parseU128(text: string, what: string): bigint {
  if (!/^\d+$/.test(text.trim())) {
    throw usageError(`${what}: "${text}" is not a whole number of base units`);
  }
  return checkU128(BigInt(text.trim()), what);
}

function checkU128(value: bigint, what: string): bigint {
  if (value > U128_MAX) {
    throw usageError(`${what}: ${value} does not fit in u128`);
  }
  return value;
}

/** yoctoNEAR to "1.5 NEAR" (trailing zeros dropped). */
export function formatNear(yocto: bigint | string): string {
  const value = BigInt(yocto);
  const whole = value / YOCTO_PER_NEAR;
  const fraction = (value % YOCTO_PER_NEAR).toString().padStart(24, "0").replace(/0+$/, "");
  return fraction === "" ? `${whole} NEAR` : `${whole}.${fraction} NEAR`;
}

export function parseTgas(text: string, what: string): bigint {
  if (!/^\d{1,3}$/.test(text.trim()) || Number(text) < 1 || Number(text) > 300) {
    throw usageError(`${what}: "${text}" is not a whole number of Tgas between 1 and 300`);
  }
  return BigInt(text.trim()) * TGAS;
}

/** A positive whole number of seconds (timeouts, windows) to nanoseconds. */
export function secondsToNs(text: string, what: string): bigint {
  if (!/^\d+$/.test(text.trim())) {
    throw usageError(`${what}: "${text}" is not a whole number of seconds`);
  }
  return BigInt(text.trim()) * 1_000_000_000n;
}
