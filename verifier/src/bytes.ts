/** Byte helpers: hex both ways, comparison, and a bounds-checked little-endian reader. */
import { fail } from "./errors.ts";

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");
}

/** Hex (any case, no prefix) to bytes; `field` names the input in errors. */
export function fromHex(text: string, field: string, length?: number): Uint8Array {
  if (text.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(text)) {
    fail("bad_input", `${field}: expected hex, got "${text.slice(0, 40)}"`);
  }
  const bytes = new Uint8Array(Buffer.from(text, "hex"));
  if (length !== undefined && bytes.length !== length) {
    fail("bad_input", `${field}: expected ${length} bytes, got ${bytes.length}`);
  }
  return bytes;
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) {
    return false;
  }
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) {
      return false;
    }
  }
  return true;
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Reads fields in order; running past the end fails with the field's name. */
export class ByteReader {
  readonly bytes: Uint8Array;
  offset = 0;
  private readonly what: string;

  constructor(bytes: Uint8Array, what: string) {
    this.bytes = bytes;
    this.what = what;
  }

  take(length: number, field: string): Uint8Array {
    if (this.offset + length > this.bytes.length) {
      fail(
        "malformed_quote",
        `${this.what}: ${field} needs ${length} bytes at offset ${this.offset}, ` +
          `only ${this.bytes.length - this.offset} left`,
      );
    }
    const out = this.bytes.subarray(this.offset, this.offset + length);
    this.offset += length;
    return out;
  }

  u16(field: string): number {
    const b = this.take(2, field);
    return (b[0] ?? 0) | ((b[1] ?? 0) << 8);
  }

  u32(field: string): number {
    const b = this.take(4, field);
    return ((b[0] ?? 0) | ((b[1] ?? 0) << 8) | ((b[2] ?? 0) << 16)) + (b[3] ?? 0) * 0x1000000;
  }
}
