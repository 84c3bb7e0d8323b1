/** Minimal borsh reader/writer for the runtime's own types (little-endian, u32 length prefixes). */

const textDecoder = new TextDecoder("utf-8", { fatal: true });
const textEncoder = new TextEncoder();

export class BorshReader {
  readonly bytes: Uint8Array;
  offset = 0;
  private readonly view: DataView;

  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  private need(n: number, what: string): void {
    if (this.offset + n > this.bytes.length) {
      throw new Error(`unexpected end of input reading ${what} at byte ${this.offset}`);
    }
  }

  u8(what = "u8"): number {
    this.need(1, what);
    const v = this.bytes[this.offset] as number;
    this.offset += 1;
    return v;
  }

  u32(what = "u32"): number {
    this.need(4, what);
    const v = this.view.getUint32(this.offset, true);
    this.offset += 4;
    return v;
  }

  u64(what = "u64"): bigint {
    this.need(8, what);
    const v = this.view.getBigUint64(this.offset, true);
    this.offset += 8;
    return v;
  }

  u128(what = "u128"): bigint {
    const lo = this.u64(what);
    const hi = this.u64(what);
    return (hi << 64n) | lo;
  }

  fixed(n: number, what = "bytes"): Uint8Array {
    this.need(n, what);
    const v = this.bytes.slice(this.offset, this.offset + n);
    this.offset += n;
    return v;
  }

  bytesVec(what = "bytes"): Uint8Array {
    const len = this.u32(what);
    return this.fixed(len, what);
  }

  string(what = "string"): string {
    const raw = this.bytesVec(what);
    try {
      return textDecoder.decode(raw);
    } catch {
      throw new Error(`invalid utf-8 in ${what}`);
    }
  }

  option<T>(read: () => T): T | null {
    const tag = this.u8("option tag");
    if (tag === 0) return null;
    if (tag === 1) return read();
    throw new Error(`invalid option tag ${tag} at byte ${this.offset - 1}`);
  }

  vec<T>(read: () => T, what = "vec"): T[] {
    const len = this.u32(what);
    const out: T[] = [];
    for (let i = 0; i < len; i++) out.push(read());
    return out;
  }

  end(what: string): void {
    if (this.offset !== this.bytes.length) {
      throw new Error(`${this.bytes.length - this.offset} trailing bytes after ${what}`);
    }
  }
}

export class BorshWriter {
  private buf = new Uint8Array(256);
  private view = new DataView(this.buf.buffer);
  length = 0;

  private reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  u8(v: number): this {
    this.reserve(1);
    this.buf[this.length++] = v;
    return this;
  }

  u32(v: number): this {
    this.reserve(4);
    this.view.setUint32(this.length, v, true);
    this.length += 4;
    return this;
  }

  u64(v: bigint): this {
    this.reserve(8);
    this.view.setBigUint64(this.length, BigInt.asUintN(64, v), true);
    this.length += 8;
    return this;
  }

  u128(v: bigint): this {
    this.u64(v & 0xffffffffffffffffn);
    return this.u64(v >> 64n);
  }

  fixed(bytes: Uint8Array): this {
    this.reserve(bytes.length);
    this.buf.set(bytes, this.length);
    this.length += bytes.length;
    return this;
  }

  bytesVec(bytes: Uint8Array): this {
    this.u32(bytes.length);
    return this.fixed(bytes);
  }

  string(s: string): this {
    return this.bytesVec(textEncoder.encode(s));
  }

  toBytes(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}
