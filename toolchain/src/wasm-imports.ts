// Reads a wasm module's import section (the WebAssembly JS API's Module.imports is not
// in the TypeScript libs this project compiles against).

export type WasmImport = {
  module: string;
  name: string;
  kind: "function" | "table" | "memory" | "global";
};

const KINDS = ["function", "table", "memory", "global"] as const;
const IMPORT_SECTION = 2;

class Reader {
  offset = 0;
  private readonly bytes: Uint8Array;
  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
  }
  byte(): number {
    const value = this.bytes[this.offset++];
    if (value === undefined) throw new Error("truncated wasm module");
    return value;
  }
  u32(): number {
    let result = 0;
    for (let shift = 0; ; shift += 7) {
      const byte = this.byte();
      result += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return result;
    }
  }
  name(): string {
    const length = this.u32();
    const text = new TextDecoder().decode(this.bytes.subarray(this.offset, this.offset + length));
    this.offset += length;
    return text;
  }
  skipLimits(): void {
    const flags = this.byte();
    this.u32();
    if (flags & 1) this.u32();
  }
}

export function listImports(wasm: Uint8Array): WasmImport[] {
  const reader = new Reader(wasm);
  reader.offset = 8; // magic + version
  while (reader.offset < wasm.length) {
    const id = reader.byte();
    const size = reader.u32();
    if (id !== IMPORT_SECTION) {
      reader.offset += size;
      continue;
    }
    const imports: WasmImport[] = [];
    const count = reader.u32();
    for (let i = 0; i < count; i++) {
      const module = reader.name();
      const name = reader.name();
      const kindCode = reader.byte();
      const kind = KINDS[kindCode];
      if (kind === undefined) throw new Error(`unknown import kind ${kindCode}`);
      if (kind === "function") reader.u32();
      else if (kind === "table") {
        reader.byte();
        reader.skipLimits();
      } else if (kind === "memory") reader.skipLimits();
      else {
        reader.byte();
        reader.byte();
      }
      imports.push({ module, name, kind });
    }
    return imports;
  }
  return [];
}
