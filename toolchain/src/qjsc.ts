// JS module source -> QuickJS bytecode, with the qjsc reactor built by engine.ts.
// WASI calls are answered "not supported": the compiler needs no files or clock.

const ENOSYS = 52;

/** Every import (only WASI functions are expected) answers ENOSYS. */
const stubImports = new Proxy({} as WebAssembly.Imports, {
  get: () => new Proxy({}, { get: () => () => ENOSYS }),
});

type QjscExports = {
  memory: WebAssembly.Memory;
  qjsc_alloc(size: number): number;
  qjsc_compile(source: number, sourceLength: number, filename: number): number;
  qjsc_output(): number;
  qjsc_output_len(): number;
};

function writeCString(exports: QjscExports, bytes: Uint8Array): number {
  const pointer = exports.qjsc_alloc(bytes.length + 1);
  const memory = new Uint8Array(exports.memory.buffer);
  memory.set(bytes, pointer);
  memory[pointer + bytes.length] = 0;
  return pointer;
}

/** Compiles an ES module; a syntax error throws with QuickJS's message and position. */
export function compileModule(qjscWasm: Uint8Array, source: string, filename: string): Uint8Array {
  const instance = new WebAssembly.Instance(
    new WebAssembly.Module(new Uint8Array(qjscWasm)),
    stubImports,
  );
  const exports = instance.exports as unknown as QjscExports;
  const sourceBytes = new TextEncoder().encode(source);
  const sourcePointer = writeCString(exports, sourceBytes);
  const namePointer = writeCString(exports, new TextEncoder().encode(filename));
  const status = exports.qjsc_compile(sourcePointer, sourceBytes.length, namePointer);
  const output = new Uint8Array(
    exports.memory.buffer,
    exports.qjsc_output(),
    exports.qjsc_output_len(),
  ).slice();
  if (status !== 0) throw new Error(new TextDecoder().decode(output).trim());
  return output;
}

/** The C header that builder.c includes: the bytecode as `code` / `code_size`. */
export function bytecodeHeader(bytecode: Uint8Array): string {
  const lines: string[] = [];
  for (let i = 0; i < bytecode.length; i += 16) {
    lines.push(
      `  ${Array.from(bytecode.subarray(i, i + 16), (byte) => `0x${byte.toString(16).padStart(2, "0")},`).join(" ")}`,
    );
  }
  return [
    "#include <stdint.h>",
    "",
    `const uint32_t code_size = ${bytecode.length};`,
    "",
    `const uint8_t code[${bytecode.length}] = {`,
    ...lines,
    "};",
    "",
  ].join("\n");
}
