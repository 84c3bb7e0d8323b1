// wasm-opt's --llvm-memory-copy-fill-lowering replaces every memory.copy / memory.fill
// (NEAR runs MVP wasm; the prebuilt wasi-libc uses them, e.g. in realloc) with calls to two
// functions it adds, which move one byte per loop turn (~19 instructions a byte, and NEAR
// charges per instruction). This points those two functions at the engine's word-wise
// gpu_market_copy / gpu_market_fill (toolchain/c/memory-words.c) instead.
import binaryen from "binaryen";

/** The C functions, exported by name so that they can be found here; the exports go away. */
export const COPY_EXPORT = "gpu_market_copy";
export const FILL_EXPORT = "gpu_market_fill";

// binaryen.js has these as binaryen.Function; its typings put them on Module.
const functionApi = (binaryen as unknown as { Function: binaryen.Module["Function"] }).Function;

// The lowering pass's helpers carry these parameter and local names when wasm-opt runs with -g.
const COPY_HELPER_LOCALS = "dst,src,size,start,end,step,i";
const FILL_HELPER_LOCALS = "dst,val,size";

function localNames(fn: binaryen.FunctionRef): string {
  const names: string[] = [];
  for (let i = 0; i < functionApi.getNumLocals(fn); i++)
    names.push(functionApi.hasLocalName(fn, i) ? functionApi.getLocalName(fn, i) : "");
  return names.join(",");
}

function exportedFunction(module: binaryen.Module, name: string): string {
  const ref = module.getExport(name);
  if (!ref) throw new Error(`the engine does not export ${name}`);
  const info = binaryen.getExportInfo(ref);
  if (info.kind !== binaryen.ExternalFunction) throw new Error(`${name} is not a function`);
  return info.value;
}

/**
 * `lowered`: the output of wasm-opt -g with the lowering passes. `functionsBefore`: how many
 * functions the module had before them (the helpers come after). Returns the module with
 * each helper's body replaced by a call to the word-wise function (wasm-opt inlines it
 * later) and without the two exports.
 */
export function redirectBulkMemory(lowered: Uint8Array, functionsBefore: number): Uint8Array {
  const module = binaryen.readBinary(lowered);
  try {
    const copy = exportedFunction(module, COPY_EXPORT);
    const fill = exportedFunction(module, FILL_EXPORT);
    const added = module.getNumFunctions() - functionsBefore;
    let redirected = 0;
    for (let i = functionsBefore; i < module.getNumFunctions(); i++) {
      const fn = module.getFunctionByIndex(i);
      const info = binaryen.getFunctionInfo(fn);
      const locals = localNames(fn);
      const target =
        locals === COPY_HELPER_LOCALS ? copy : locals === FILL_HELPER_LOCALS ? fill : undefined;
      if (target === undefined) continue;
      const args = [0, 1, 2].map((index) => module.local.get(index, binaryen.i32));
      functionApi.setBody(fn, module.call(target, args, binaryen.none));
      redirected++;
      if (info.results !== binaryen.none) throw new Error(`${info.name} returns a value`);
    }
    if (redirected !== added)
      throw new Error(
        `wasm-opt added ${added} function(s) while lowering, ${redirected} recognised as memory.copy/memory.fill helpers: has binaryen changed?`,
      );
    module.removeExport(COPY_EXPORT);
    module.removeExport(FILL_EXPORT);
    return module.emitBinary();
  } finally {
    module.dispose();
  }
}

export function functionCount(wasm: Uint8Array): number {
  const module = binaryen.readBinary(wasm);
  try {
    return module.getNumFunctions();
  } finally {
    module.dispose();
  }
}
