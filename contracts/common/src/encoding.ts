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

/** Strict standard base64 (RFC 4648 alphabet, padded) to bytes. */
export function decodeBase64(text: string, field: string): Uint8Array {
  if (text.length % 4 !== 0) {
    fail(`${field}: base64 length must be a multiple of 4 (got ${text.length})`);
  }
  const padding = text.endsWith("==") ? 2 : text.endsWith("=") ? 1 : 0;
  const out = new Uint8Array((text.length / 4) * 3 - padding);
  let written = 0;
  for (let i = 0; i < text.length; i += 4) {
    let group = 0;
    for (let j = 0; j < 4; j++) {
      const char = text.charAt(i + j);
      const isPadding = char === "=" && i + 4 === text.length && j >= 4 - padding;
      const value = isPadding ? 0 : BASE64_ALPHABET.indexOf(char);
      if (value < 0) {
        fail(`${field}: "${char}" at ${i + j} is not a base64 character`);
      }
      group = (group << 6) | value;
    }
    for (let shift = 16; shift >= 0 && written < out.length; shift -= 8) {
      out[written++] = (group >> shift) & 0xff;
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
