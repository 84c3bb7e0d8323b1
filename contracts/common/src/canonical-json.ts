/**
 * RFC 8785 (JCS) canonical JSON for the documents the market signs and attests: objects with
 * sorted keys, no whitespace. The documents hold only strings, arrays and objects (numbers are
 * decimal strings), so JCS reduces to ECMAScript's JSON.stringify of strings plus key sorting by
 * UTF-16 code units, which is what Array.prototype.sort does. Host-independent (QuickJS and Node
 * give the same bytes), so unit-tested in Node.
 */
import { asciiBytes } from "./encoding.ts";
import { fail } from "./errors.ts";

export type CanonicalValue = string | CanonicalValue[] | { [key: string]: CanonicalValue };

export function canonicalJson(value: CanonicalValue): string {
  if (typeof value === "string") {
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) {
    return `[${value.map(canonicalJson).join(",")}]`;
  }
  if (typeof value !== "object" || value === null) {
    return fail(`internal: canonical JSON holds only strings, arrays and objects`);
  }
  const keys = Object.keys(value).sort();
  return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(value[key] as CanonicalValue)}`).join(",")}}`;
}

/** The bytes that are hashed and signed. Every field is validated ASCII, so UTF-8 equals ASCII. */
export function canonicalBytes(value: CanonicalValue): Uint8Array {
  return asciiBytes(canonicalJson(value));
}
