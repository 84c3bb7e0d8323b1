/** Hex, base64 and sha256 helpers with errors that name the field. */
import { sha256 } from "@noble/hashes/sha2.js";
import { base64 } from "@scure/base";
import { fail } from "./errors.ts";

const HEX = /^(?:[0-9a-f]{2})*$/;

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");
}

export function fromHex(text: string, field: string, length?: number): Uint8Array {
  if (!HEX.test(text)) {
    fail("bad_input", `${field}: expected lowercase hex, got "${text.slice(0, 80)}"`);
  }
  const bytes = new Uint8Array(Buffer.from(text, "hex"));
  if (length !== undefined && bytes.length !== length) {
    fail("bad_input", `${field}: expected ${length} bytes, got ${bytes.length}`);
  }
  return bytes;
}

export function toBase64(bytes: Uint8Array): string {
  return base64.encode(bytes);
}

export function fromBase64(text: string, field: string): Uint8Array {
  try {
    return base64.decode(text);
  } catch {
    return fail("bad_envelope", `${field}: not canonical base64`);
  }
}

export function sha256Hex(bytes: Uint8Array): string {
  return toHex(sha256(bytes));
}

export const utf8 = new TextEncoder();
export const fromUtf8 = new TextDecoder("utf-8", { fatal: true });
