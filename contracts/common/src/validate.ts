/**
 * Validation of JSON arguments. Every check names the field at fault, so a caller learns exactly
 * which argument to fix. Host-independent, so unit-tested in Node.
 */
import { fail } from "./errors.ts";

/** Printable ASCII (space to tilde): keeps names and labels single-line and byte-countable. */
const PRINTABLE = /^[\x20-\x7e]*$/;
const ACCOUNT_ID = /^(([a-z\d]+[-_])*[a-z\d]+\.)*([a-z\d]+[-_])*[a-z\d]+$/;
const LOWER_HEX = /^[0-9a-f]*$/;
const URL_SHAPE = /^https?:\/\/[A-Za-z0-9.-]+(:[0-9]{1,5})?(\/[\x21-\x7e]*)?$/;

export function typeName(value: unknown): string {
  if (value === null) {
    return "null";
  }
  return Array.isArray(value) ? "array" : typeof value;
}

export function requireObject(value: unknown, field: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    fail(`${field}: expected an object, got ${typeName(value)}`);
  }
  return value as Record<string, unknown>;
}

/** Rejects keys the method does not know, so a misspelt optional field is not silently ignored. */
export function requireOnlyKeys(
  value: Record<string, unknown>,
  field: string,
  allowed: readonly string[],
): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) {
      const known = allowed.length > 0 ? `allowed: ${allowed.join(", ")}` : "takes no fields";
      fail(`${field}: unknown field "${key}" (${known})`);
    }
  }
}

export function requireArray(value: unknown, field: string, min: number, max: number): unknown[] {
  if (!Array.isArray(value)) {
    fail(`${field}: expected an array, got ${typeName(value)}`);
  }
  if (value.length < min || value.length > max) {
    fail(`${field}: expected ${min} to ${max} entries, got ${value.length}`);
  }
  return value;
}

export function requireString(value: unknown, field: string, min: number, max: number): string {
  if (typeof value !== "string") {
    fail(`${field}: expected a string, got ${typeName(value)}`);
  }
  if (value.length < min || value.length > max) {
    fail(`${field}: length must be ${min} to ${max}, got ${value.length}`);
  }
  return value;
}

/** A single-line printable ASCII string. */
export function requireText(value: unknown, field: string, min: number, max: number): string {
  const text = requireString(value, field, min, max);
  if (!PRINTABLE.test(text)) {
    fail(`${field}: only printable ASCII characters are allowed`);
  }
  return text;
}

export function requireMatch(
  value: unknown,
  field: string,
  pattern: RegExp,
  max: number,
  expected: string,
): string {
  const text = requireString(value, field, 1, max);
  if (!pattern.test(text)) {
    fail(`${field}: "${text}" is not ${expected}`);
  }
  return text;
}

export function requireBool(value: unknown, field: string): boolean {
  if (typeof value !== "boolean") {
    fail(`${field}: expected a boolean, got ${typeName(value)}`);
  }
  return value;
}

/** A JSON integer within [min, max] (both within JS's exact integer range). */
export function requireInt(value: unknown, field: string, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value)) {
    fail(`${field}: expected an integer, got ${typeName(value)}`);
  }
  if (value < min || value > max) {
    fail(`${field}: must be between ${min} and ${max}, got ${value}`);
  }
  return value;
}

export function requireEnum<T extends string>(
  value: unknown,
  field: string,
  allowed: readonly T[],
): T {
  if (typeof value !== "string" || !(allowed as readonly string[]).includes(value)) {
    fail(
      `${field}: expected one of ${allowed.join(", ")}, got ${JSON.stringify(value) ?? "nothing"}`,
    );
  }
  return value as T;
}

/** A NEAR account id (named or implicit), as nearcore validates it. */
export function requireAccountId(value: unknown, field: string): string {
  const id = requireString(value, field, 2, 64);
  if (!ACCOUNT_ID.test(id)) {
    fail(`${field}: "${id}" is not a valid NEAR account id`);
  }
  return id;
}

/** An http(s) URL without whitespace; http:// is allowed for local networks. */
export function requireUrl(value: unknown, field: string, max: number): string {
  const url = requireString(value, field, 1, max);
  if (!URL_SHAPE.test(url)) {
    fail(`${field}: "${url}" is not an https:// or http:// URL`);
  }
  return url;
}

/** Lowercase hex of a whole number of bytes, between minBytes and maxBytes long. */
export function requireHex(
  value: unknown,
  field: string,
  minBytes: number,
  maxBytes: number,
): string {
  const hex = requireString(value, field, minBytes * 2, maxBytes * 2);
  if (hex.length % 2 !== 0 || !LOWER_HEX.test(hex)) {
    fail(`${field}: expected lowercase hex of whole bytes`);
  }
  return hex;
}

/** Pagination arguments with defaults and a hard ceiling on the page size. */
export function requirePage(
  args: Record<string, unknown>,
  maxLimit: number,
): { from: number; limit: number } {
  const from =
    args.from_index === undefined ? 0 : requireInt(args.from_index, "from_index", 0, 2 ** 32);
  const limit = args.limit === undefined ? maxLimit : requireInt(args.limit, "limit", 1, maxLimit);
  return { from, limit };
}
