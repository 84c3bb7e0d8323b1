/**
 * Hex, base64 and sha256 helpers with errors that name the field. Node's native base64 and sha256:
 * on a 100 KB request they are most of the protocol's cost in pure JS.
 */
import { createHash } from "node:crypto";
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
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}

/** Padded standard base64 only: Node's decoder skips bad characters, so the text is re-encoded to compare. */
export function fromBase64(text: string, field: string): Uint8Array {
  const bytes = Buffer.from(text, "base64");
  if (bytes.toString("base64") !== text) {
    fail("bad_envelope", `${field}: not canonical base64`);
  }
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

export const utf8 = new TextEncoder();
export const fromUtf8 = new TextDecoder("utf-8", { fatal: true });
