// Pre-initialisation: start the engine and load the contract once, at build time, and ship
// the resulting memory as the contract's data segments (what wizer does for other wasm
// runtimes). NEAR instantiates every call with a fresh memory of initial_memory_pages made
// from the data segments, so each call then starts where loading ended instead of paying
// for it (toolchain/c/contract-entry.c; figures in BENCHMARKS.md).
//
// The run happens in V8 as NEAR would run the contract: in NEAR's initial memory (the
// contract declares it, flags.ts; the allocator's heap ends where it ends), host functions
// are refused (loading must not depend on a call's context), and the run must leave the
// memory size and every global as a call would find them. The stack and the bytecode are
// dead after loading and are left out; runs of zeros are left out too (a fresh memory is
// zero).
import binaryen from "binaryen";
import { NEAR_INITIAL_MEMORY_PAGES, NEAR_MAX_MEMORY_PAGES } from "./flags.ts";

export const PREINIT_EXPORT = "gpu_market_preinit";

const PAGE = 65536;
/** A run of fewer zeros than this stays inside a segment: a segment header costs ~8 bytes. */
const MIN_ZERO_GAP = 12;

export class PreinitError extends Error {}

/** The module as the pre-initialisation run needs it: every mutable global exported. */
function runnableCopy(wasm: Uint8Array): { bytes: Uint8Array; mutableGlobals: number } {
  const module = binaryen.readBinary(wasm);
  try {
    let mutableGlobals = 0;
    for (let i = 0; i < module.getNumGlobals(); i++) {
      const info = binaryen.getGlobalInfo(module.getGlobalByIndex(i));
      if (info.mutable) module.addGlobalExport(info.name, `gm_global_${mutableGlobals++}`);
    }
    return { bytes: module.emitBinary(), mutableGlobals };
  } finally {
    module.dispose();
  }
}

function hostImports(memory: () => WebAssembly.Memory): WebAssembly.Imports {
  const env = new Proxy(
    {},
    {
      get(_target, name) {
        if (name === "panic_utf8")
          return (length: bigint, pointer: bigint) => {
            const bytes = new Uint8Array(memory().buffer, Number(pointer), Number(length));
            throw new PreinitError(
              `the contract aborted while loading: ${new TextDecoder().decode(bytes)}`,
            );
          };
        return () => {
          throw new PreinitError(
            `the contract calls env.${String(name)} while loading (at its top level): a contract's top level may not use the NEAR host, move that into a method`,
          );
        };
      },
    },
  );
  return { env };
}

/** Runs PREINIT_EXPORT; returns the memory image to ship. */
function run(wasm: Uint8Array): Uint8Array {
  const { bytes, mutableGlobals } = runnableCopy(wasm);
  let memory: WebAssembly.Memory | undefined;
  const instance = new WebAssembly.Instance(
    new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>),
    hostImports(() => memory as WebAssembly.Memory),
  );
  memory = instance.exports.memory as WebAssembly.Memory;
  if (memory.buffer.byteLength !== NEAR_INITIAL_MEMORY_PAGES * PAGE)
    throw new PreinitError(
      `the contract declares ${memory.buffer.byteLength / PAGE} pages of memory, not NEAR's ${NEAR_INITIAL_MEMORY_PAGES}`,
    );
  const globals = (): unknown[] =>
    Array.from(
      { length: mutableGlobals },
      (_, i) => (instance.exports[`gm_global_${i}`] as WebAssembly.Global).value,
    );
  const globalsBefore = globals();
  const preinit = instance.exports[PREINIT_EXPORT] as (() => number) | undefined;
  if (!preinit) throw new PreinitError(`the module does not export ${PREINIT_EXPORT}`);
  const infoPointer = preinit();
  if (memory.buffer.byteLength !== NEAR_INITIAL_MEMORY_PAGES * PAGE)
    throw new PreinitError(
      `loading the contract grew the memory beyond NEAR's ${NEAR_INITIAL_MEMORY_PAGES} initial pages`,
    );
  globals().forEach((value, i) => {
    if (value !== globalsBefore[i])
      throw new PreinitError(`loading the contract left mutable global ${i} changed`);
  });
  const image = new Uint8Array(memory.buffer).slice();
  const info = new DataView(image.buffer, infoPointer, 20);
  const [memoryPages, bytecode, bytecodeSize, stackLow, stackHigh] = [0, 4, 8, 12, 16].map((at) =>
    info.getUint32(at, true),
  ) as [number, number, number, number, number];
  if (memoryPages !== NEAR_INITIAL_MEMORY_PAGES)
    throw new PreinitError(`the engine saw ${memoryPages} pages of memory`);
  // Dead after loading: the bytecode (QuickJS copied what it keeps) and the stack (the stack
  // pointer is back at its start).
  image.fill(0, bytecode, bytecode + bytecodeSize);
  image.fill(0, stackLow, stackHigh);
  return image;
}

/** Non-zero stretches of the image, split where at least MIN_ZERO_GAP zeros lie between. */
export function dataSegments(image: Uint8Array): { offset: number; data: Uint8Array }[] {
  const segments: { offset: number; data: Uint8Array }[] = [];
  let start = -1;
  let lastNonZero = -1;
  for (let i = 0; i < image.length; i++) {
    if (image[i] === 0) continue;
    if (start >= 0 && i - lastNonZero - 1 >= MIN_ZERO_GAP) {
      segments.push({ offset: start, data: image.slice(start, lastNonZero + 1) });
      start = -1;
    }
    if (start < 0) start = i;
    lastNonZero = i;
  }
  if (start >= 0) segments.push({ offset: start, data: image.slice(start, lastNonZero + 1) });
  return segments;
}

/**
 * The contract with its engine pre-initialised: the memory image as data segments, the memory
 * declared as NEAR provides it, and without the PREINIT_EXPORT export (run wasm-opt's
 * --remove-unused-module-elements afterwards to drop the code only loading used).
 */
export function preinitialise(wasm: Uint8Array): Uint8Array {
  const image = run(wasm);
  const module = binaryen.readBinary(wasm);
  try {
    const segments = dataSegments(image).map((segment) => ({
      offset: module.i32.const(segment.offset),
      data: segment.data,
      passive: false,
    }));
    module.removeExport(PREINIT_EXPORT);
    // setMemory replaces the memory and all its segments, and exports it again.
    module.removeExport("memory");
    module.setMemory(NEAR_INITIAL_MEMORY_PAGES, NEAR_MAX_MEMORY_PAGES, "memory", segments);
    return module.emitBinary();
  } finally {
    module.dispose();
  }
}
