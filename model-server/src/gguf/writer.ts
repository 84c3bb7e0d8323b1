/**
 * A GGUF v3 serializer (ggml docs/gguf.md): header, metadata key-values, tensor infos, padding,
 * tensor data. Little-endian throughout; every tensor's data starts at a multiple of the
 * alignment, in the order of the tensor infos (llama.cpp's reader requires exactly that layout).
 * Only the value and tensor types the project writes are supported.
 */

export const GGUF_MAGIC = "GGUF";
export const GGUF_VERSION = 3;
export const GGUF_DEFAULT_ALIGNMENT = 32;

/** gguf_metadata_value_type codes. */
const VALUE_TYPE = {
  uint32: 4,
  int32: 5,
  float32: 6,
  bool: 7,
  string: 8,
  array: 9,
} as const;

/** ggml_type codes. */
const TENSOR_TYPE = { F32: 0 } as const;

export type GgufScalar =
  | { type: "uint32"; value: number }
  | { type: "int32"; value: number }
  | { type: "float32"; value: number }
  | { type: "bool"; value: boolean }
  | { type: "string"; value: string };

export type GgufArray =
  | { type: "array"; itemType: "string"; value: readonly string[] }
  | { type: "array"; itemType: "int32"; value: readonly number[] }
  | { type: "array"; itemType: "float32"; value: readonly number[] };

export type GgufValue = GgufScalar | GgufArray;

export interface GgufTensor {
  /** At most 64 bytes, e.g. "blk.0.attn_q.weight". */
  name: string;
  /** ggml `ne` order: dims[0] is the innermost (contiguous) dimension. At most 4 dims. */
  dims: readonly number[];
  type: keyof typeof TENSOR_TYPE;
  data: Float32Array;
}

export interface GgufFile {
  /** Written in this order; `general.alignment` is added by the writer. */
  metadata: ReadonlyArray<readonly [string, GgufValue]>;
  tensors: readonly GgufTensor[];
  alignment?: number;
}

const KEY_RE = /^[a-z0-9_]+(\.[a-z0-9_]+)*$/;
const MAX_TENSOR_NAME_BYTES = 64;
const MAX_DIMS = 4;

/** Grows a little-endian byte buffer. */
class ByteSink {
  private buffer = new Uint8Array(1 << 16);
  private view = new DataView(this.buffer.buffer);
  length = 0;

  private reserve(extra: number): void {
    if (this.length + extra <= this.buffer.length) return;
    let size = this.buffer.length * 2;
    while (size < this.length + extra) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buffer.subarray(0, this.length));
    this.buffer = next;
    this.view = new DataView(next.buffer);
  }

  u8(value: number): void {
    this.reserve(1);
    this.view.setUint8(this.length, value);
    this.length += 1;
  }

  u32(value: number): void {
    this.reserve(4);
    this.view.setUint32(this.length, value, true);
    this.length += 4;
  }

  i32(value: number): void {
    this.reserve(4);
    this.view.setInt32(this.length, value, true);
    this.length += 4;
  }

  u64(value: number | bigint): void {
    this.reserve(8);
    this.view.setBigUint64(this.length, BigInt(value), true);
    this.length += 8;
  }

  f32(value: number): void {
    this.reserve(4);
    this.view.setFloat32(this.length, value, true);
    this.length += 4;
  }

  bytes(data: Uint8Array): void {
    this.reserve(data.length);
    this.buffer.set(data, this.length);
    this.length += data.length;
  }

  /** gguf_string_t: u64 byte length, then UTF-8 without a terminator. */
  string(text: string): void {
    const encoded = new TextEncoder().encode(text);
    this.u64(encoded.length);
    this.bytes(encoded);
  }

  padTo(alignment: number): void {
    while (this.length % alignment !== 0) this.u8(0);
  }

  result(): Uint8Array {
    return this.buffer.slice(0, this.length);
  }
}

function checkUint32(value: number, what: string): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xffff_ffff) {
    throw new RangeError(`${what}: ${value} is not a uint32`);
  }
}

function checkInt32(value: number, what: string): void {
  if (!Number.isInteger(value) || value < -0x8000_0000 || value > 0x7fff_ffff) {
    throw new RangeError(`${what}: ${value} is not an int32`);
  }
}

function checkFloat(value: number, what: string): void {
  if (!Number.isFinite(value)) throw new RangeError(`${what}: ${value} is not a finite float`);
}

function writeValue(sink: ByteSink, key: string, value: GgufValue): void {
  sink.u32(VALUE_TYPE[value.type]);
  switch (value.type) {
    case "uint32":
      checkUint32(value.value, key);
      sink.u32(value.value);
      return;
    case "int32":
      checkInt32(value.value, key);
      sink.i32(value.value);
      return;
    case "float32":
      checkFloat(value.value, key);
      sink.f32(value.value);
      return;
    case "bool":
      sink.u8(value.value ? 1 : 0);
      return;
    case "string":
      sink.string(value.value);
      return;
    case "array":
      sink.u32(VALUE_TYPE[value.itemType]);
      sink.u64(value.value.length);
      if (value.itemType === "string") {
        for (const item of value.value) sink.string(item);
      } else if (value.itemType === "int32") {
        for (const [i, item] of value.value.entries()) {
          checkInt32(item, `${key}[${i}]`);
          sink.i32(item);
        }
      } else {
        for (const [i, item] of value.value.entries()) {
          checkFloat(item, `${key}[${i}]`);
          sink.f32(item);
        }
      }
      return;
  }
}

function checkTensor(tensor: GgufTensor, seen: Set<string>): void {
  const nameBytes = new TextEncoder().encode(tensor.name).length;
  if (nameBytes === 0 || nameBytes > MAX_TENSOR_NAME_BYTES) {
    throw new RangeError(`tensor name "${tensor.name}" must be 1 to 64 bytes`);
  }
  if (seen.has(tensor.name)) throw new Error(`duplicate tensor "${tensor.name}"`);
  seen.add(tensor.name);
  if (tensor.dims.length === 0 || tensor.dims.length > MAX_DIMS) {
    throw new RangeError(`tensor "${tensor.name}" has ${tensor.dims.length} dims (1 to 4)`);
  }
  let count = 1;
  for (const dim of tensor.dims) {
    if (!Number.isSafeInteger(dim) || dim <= 0) {
      throw new RangeError(`tensor "${tensor.name}" has dimension ${dim}`);
    }
    count *= dim;
  }
  if (tensor.data.length !== count) {
    throw new RangeError(
      `tensor "${tensor.name}" has ${tensor.data.length} values for dims [${tensor.dims.join(", ")}]`,
    );
  }
}

/** The whole file as bytes; the same input always gives the same bytes. */
export function serializeGguf(file: GgufFile): Uint8Array {
  const alignment = file.alignment ?? GGUF_DEFAULT_ALIGNMENT;
  // The spec asks for a multiple of 8; llama.cpp also requires a power of two.
  if (!Number.isInteger(alignment) || alignment < 8 || (alignment & (alignment - 1)) !== 0) {
    throw new RangeError(`alignment ${alignment} must be a power of two, at least 8`);
  }
  const metadata: Array<readonly [string, GgufValue]> = [
    ...file.metadata,
    ["general.alignment", { type: "uint32", value: alignment }],
  ];
  const keys = new Set<string>();
  for (const [key] of metadata) {
    if (!KEY_RE.test(key) || key.length > 65_535) throw new Error(`invalid metadata key "${key}"`);
    if (keys.has(key)) throw new Error(`duplicate metadata key "${key}"`);
    keys.add(key);
  }
  const names = new Set<string>();
  for (const tensor of file.tensors) checkTensor(tensor, names);

  const sink = new ByteSink();
  sink.bytes(new TextEncoder().encode(GGUF_MAGIC));
  sink.u32(GGUF_VERSION);
  sink.u64(file.tensors.length);
  sink.u64(metadata.length);
  for (const [key, value] of metadata) {
    sink.string(key);
    writeValue(sink, key, value);
  }

  // Offsets are relative to the start of the data section; each tensor is padded to alignment.
  let offset = 0;
  for (const tensor of file.tensors) {
    sink.string(tensor.name);
    sink.u32(tensor.dims.length);
    for (const dim of tensor.dims) sink.u64(dim);
    sink.u32(TENSOR_TYPE[tensor.type]);
    sink.u64(offset);
    offset += alignUp(tensor.data.length * 4, alignment);
  }
  sink.padTo(alignment);
  for (const tensor of file.tensors) {
    for (const value of tensor.data) sink.f32(value);
    sink.padTo(alignment);
  }
  return sink.result();
}

export function alignUp(value: number, alignment: number): number {
  return Math.ceil(value / alignment) * alignment;
}
