// Contracts may import only from `env`. wasi-libc still references a few WASI calls
// (fd_write, clock_time_get, ...): each becomes an internal function with the same
// signature that returns 76 (ENOTCAPABLE), or does nothing when it returns nothing.
import binaryen from "binaryen";

const WASI_MODULE = "wasi_snapshot_preview1";
const ENOTCAPABLE = 76;

export function stubWasiImports(wasm: Uint8Array): Uint8Array {
  const module = binaryen.readBinary(wasm);
  try {
    const stubs: binaryen.FunctionInfo[] = [];
    for (let i = 0; i < module.getNumFunctions(); i++) {
      const info = binaryen.getFunctionInfo(module.getFunctionByIndex(i));
      if (info.module === WASI_MODULE) stubs.push(info);
    }
    for (const info of stubs) {
      let body: binaryen.ExpressionRef;
      if (info.results === binaryen.none) body = module.nop();
      else if (info.results === binaryen.i32) body = module.i32.const(ENOTCAPABLE);
      else
        throw new Error(
          `cannot stub ${WASI_MODULE}.${info.base}: it returns ${binaryen.expandType(info.results)}`,
        );
      module.removeFunction(info.name);
      module.addFunction(info.name, info.params, info.results, [], body);
    }
    return module.emitBinary();
  } finally {
    module.dispose();
  }
}
