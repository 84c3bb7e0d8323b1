/**
 * Contract preparation as nearcore's prepare_v2 does it before compiling: validation (MVP plus
 * sign extension), limits on functions and locals, only `env` function imports (memory imports
 * give PrepareError::Memory; tables and globals, PrepareError::Instantiate), the module's own
 * memory replaced by an imported `env.memory` of initial_memory_pages..max_memory_pages, custom
 * sections dropped. Then gas and stack instrumentation (instrument.ts) and compilation.
 */
import type { RuntimeConfig } from "../config/runtime-config.ts";
import { compileError, type PrepareErrorKind, prepareError } from "./errors.ts";
import { instrumentModule } from "./instrument.ts";
import type { FunctionCallError } from "./types.ts";
import { WasmDecodeError } from "./wasm/binary.ts";
import { type FuncType, type ParsedModule, parseModule } from "./wasm/module.ts";

export interface PreparedContract {
  module: WebAssembly.Module;
  /** Function exports: name to function type. */
  exports: Map<string, FuncType>;
  /** Imported host functions, in import order. */
  imports: { name: string; type: FuncType }[];
}

class PrepareFailure extends Error {
  readonly kind: PrepareErrorKind;
  constructor(kind: PrepareErrorKind) {
    super(kind);
    this.kind = kind;
  }
}

function checkLimits(m: ParsedModule, config: RuntimeConfig): void {
  const limits = config.wasm_config.limit_config;
  let functionsLeft = limits.max_functions_number_per_contract;
  for (const imp of m.imports) {
    if (imp.module !== "env") throw new PrepareFailure("Instantiate");
    if (imp.kind === "func") {
      functionsLeft -= 1;
      if (functionsLeft < 0) throw new PrepareFailure("TooManyFunctions");
    } else if (imp.kind === "memory") {
      throw new PrepareFailure("Memory");
    } else {
      throw new PrepareFailure("Instantiate");
    }
  }
  functionsLeft -= m.codes.length;
  if (functionsLeft < 0) throw new PrepareFailure("TooManyFunctions");
  let localsLeft = limits.max_locals_per_contract;
  for (const code of m.codes) {
    for (const group of code.locals) {
      localsLeft -= group.count;
      if (localsLeft < 0) throw new PrepareFailure("TooManyLocals");
    }
  }
  if (m.tableCount > 1) throw new PrepareFailure("Deserialization");
}

export function prepareContract(
  code: Uint8Array,
  config: RuntimeConfig,
): PreparedContract | FunctionCallError {
  let m: ParsedModule;
  try {
    m = parseModule(code);
    checkLimits(m, config);
  } catch (e) {
    if (e instanceof PrepareFailure) return prepareError(e.kind);
    if (e instanceof WasmDecodeError) return prepareError("Deserialization");
    throw e;
  }
  // Full validation (types, stack discipline, indices) is V8's, on the original module; the
  // parse above already rejected every instruction and section outside MVP + sign extension.
  if (!WebAssembly.validate(code as Uint8Array<ArrayBuffer>))
    return prepareError("Deserialization");
  const wasm = config.wasm_config;
  let instrumented: Uint8Array;
  try {
    instrumented = instrumentModule(m, {
      regularOpCost: wasm.regular_op_cost,
      maxStackHeight: wasm.limit_config.max_stack_height,
      initialMemoryPages: wasm.limit_config.initial_memory_pages,
      maxMemoryPages: wasm.limit_config.max_memory_pages,
    });
  } catch (e) {
    if (e instanceof WasmDecodeError) return prepareError("Deserialization");
    throw e;
  }
  let module: WebAssembly.Module;
  try {
    module = new WebAssembly.Module(instrumented as Uint8Array<ArrayBuffer>);
  } catch (e) {
    return compileError(e instanceof Error ? e.message : String(e));
  }
  const exports = new Map<string, FuncType>();
  for (const e of m.exports) {
    if (e.kind !== 0) continue;
    exports.set(e.name, m.types[m.funcTypes[e.index] as number] as FuncType);
  }
  const imports = m.imports.map((imp) => ({
    name: imp.name,
    type: m.types[imp.typeIndex] as FuncType,
  }));
  return { module, exports, imports };
}
