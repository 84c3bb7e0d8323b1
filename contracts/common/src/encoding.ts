/** Byte encodings used by the contracts. Host-independent, so unit-tested in Node. */
import { fail } from "./errors.ts";

const HEX_DIGITS = "0123456789abcdef";
const BASE58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
const BASE64_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

export function toHex(bytes: Uint8Array): string {
  let out = "";
  for (const byte of bytes) {
    out += (HEX_DIGITS[byte >> 4] ?? "") + (HEX_DIGITS[byte & 15] ?? "");
  }
  return out;
}

/** Bytes of a string known to be ASCII (account ids, validated labels): UTF-8 equals ASCII there. */
export function asciiBytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code > 0x7f) {
      fail(`internal: "${text}" is not ASCII`);
    }
    out[i] = code;
  }
  return out;
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let length = 0;
  for (const part of parts) {
    length += part.length;
  }
  const out = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Base58 (Bitcoin alphabet) to bytes; `field` names the argument in errors. */
export function decodeBase58(text: string, field: string): Uint8Array {
  const bytes: number[] = [];
  for (const char of text) {
    let carry = BASE58_ALPHABET.indexOf(char);
    if (carry < 0) {
      fail(`${field}: "${char}" is not a base58 character`);
    }
    for (let i = 0; i < bytes.length; i++) {
      carry += (bytes[i] ?? 0) * 58;
      bytes[i] = carry & 0xff;
      carry >>= 8;
    }
    while (carry > 0) {
      bytes.push(carry & 0xff);
      carry >>= 8;
    }
  }
  // Each leading '1' stands for a leading zero byte.
  for (let i = 0; i < text.length && text[i] === "1"; i++) {
    bytes.push(0);
  }
  return Uint8Array.from(bytes.reverse());
}

/** Base64 character code to its 6-bit value, -1 for characters outside the alphabet. */
const BASE64_VALUES: Int16Array = (() => {
  const values = new Int16Array(128).fill(-1);
  for (let i = 0; i < BASE64_ALPHABET.length; i++) {
    values[BASE64_ALPHABET.charCodeAt(i)] = i;
  }
  return values;
})();

/**
 * Strict standard base64 (RFC 4648 alphabet, padded) to bytes. A table lookup per character keeps
 * it cheap in the contract's interpreter, where evidence of several KiB is decoded.
 */
export function decodeBase64(text: string, field: string): Uint8Array {
  if (text.length % 4 !== 0) {
    fail(`${field}: base64 length must be a multiple of 4 (got ${text.length})`);
  }
  const padding = text.endsWith("==") ? 2 : text.endsWith("=") ? 1 : 0;
  const out = new Uint8Array((text.length / 4) * 3 - padding);
  const end = text.length - padding;
  let written = 0;
  let group = 0;
  for (let i = 0; i < end; i++) {
    const code = text.charCodeAt(i);
    const value = code < 128 ? (BASE64_VALUES[code] ?? -1) : -1;
    if (value < 0) {
      fail(`${field}: "${text.charAt(i)}" at ${i} is not a base64 character`);
    }
    group = (group << 6) | value;
    if ((i & 3) === 3) {
      out[written++] = group >> 16;
      out[written++] = (group >> 8) & 0xff;
      out[written++] = group & 0xff;
      group = 0;
    }
  }
  if (padding > 0) {
    // The last group holds 4 - padding characters; shift them into place as if padded with zeros.
    group <<= 6 * padding;
    out[written++] = group >> 16;
    if (padding === 1) {
      out[written++] = (group >> 8) & 0xff;
    }
  }
  return out;
}

/** Lowercase hex (already validated) to bytes. */
export function fromHex(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) {
    out[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  }
  return out;
}

/** A u64 as 8 little-endian bytes (how NEAR encodes integers for hashing). */
export function u64LeBytes(value: bigint): Uint8Array {
  const out = new Uint8Array(8);
  let rest = value;
  for (let i = 0; i < 8; i++) {
    out[i] = Number(rest & 0xffn);
    rest >>= 8n;
  }
  return out;
}
