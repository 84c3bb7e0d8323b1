/**
 * Rewrites a prepared module for execution in V8 with nearcore's metering:
 * - imports `internal.gas` (mutable f64: gas left before the limit) and `internal.trap`
 *   (mutable i32: why the module trapped: 1 gas, 2 stack), shifting global indices by two;
 * - charges each finite-wasm instrumentation point inline (decrement, trap when <= 0, as
 *   NearVm traps when burnt gas reaches the limit), plus the frame initialisation fee on entry;
 * - keeps NearVm's stack limit in a module global: each function reserves its frame and
 *   operand stack on entry (trapping on overflow) and releases it on exit. The body is wrapped
 *   in a block so that `return` (rewritten to a branch) also passes the release.
 * Exhausted gas and stack overflow trap with `unreachable` after setting `internal.trap`.
 */
import { analyzeFunction, type ModuleTypes } from "./analysis.ts";
import { ByteWriter } from "./wasm/binary.ts";
import { decodeBody } from "./wasm/body.ts";
import type { ParsedModule } from "./wasm/module.ts";
import { OP, VALTYPE_BYTE } from "./wasm/opcodes.ts";

export const TRAP_GAS = 1;
export const TRAP_STACK = 2;

const GAS_GLOBAL = 0;
const TRAP_GLOBAL = 1;
const INJECTED_IMPORTED_GLOBALS = 2;

export interface InstrumentOptions {
  regularOpCost: number;
  maxStackHeight: number;
  initialMemoryPages: number;
  maxMemoryPages: number;
}

function chargeBytes(cost: number): Uint8Array {
  const w = new ByteWriter(40);
  w.byte(OP.globalGet);
  w.u32(GAS_GLOBAL);
  w.byte(OP.f64Const);
  w.f64(cost);
  w.byte(OP.f64Sub);
  w.byte(OP.globalSet);
  w.u32(GAS_GLOBAL);
  w.byte(OP.globalGet);
  w.u32(GAS_GLOBAL);
  w.byte(OP.f64Const);
  w.f64(0);
  w.byte(OP.f64Le);
  trapIf(w, TRAP_GAS);
  return w.finish().slice();
}

function trapIf(w: ByteWriter, reason: number): void {
  w.byte(OP.if);
  w.byte(0x40);
  w.byte(OP.i32Const);
  w.s32(reason);
  w.byte(OP.globalSet);
  w.u32(TRAP_GLOBAL);
  w.byte(OP.unreachable);
  w.byte(OP.end);
}

function writeBody(
  out: ByteWriter,
  m: ParsedModule,
  funcIndex: number,
  types: ModuleTypes,
  opts: InstrumentOptions,
  stackGlobal: number,
  charges: Map<number, Uint8Array>,
): void {
  const code = m.codes[funcIndex - m.importedFuncCount];
  if (code === undefined) throw new Error("missing code entry");
  const typeIndex = m.funcTypes[funcIndex] as number;
  const body = decodeBody(m.bytes, code.codeStart, code.codeEnd);
  const a = analyzeFunction(body, typeIndex, code.locals, types, opts.regularOpCost);
  const charge = (cost: number) => {
    let bytes = charges.get(cost);
    if (bytes === undefined) {
      bytes = chargeBytes(cost);
      charges.set(cost, bytes);
    }
    w.bytes(bytes);
  };

  const w = new ByteWriter(code.codeEnd - code.codeStart + 64 + a.pointAt.length * 36);
  w.bytes(code.localsBytes);
  const stackSize = a.frameSize + a.maxOperandSize;
  // Reserve the stack (NearVm checks before charging the frame).
  w.byte(OP.globalGet);
  w.u32(stackGlobal);
  w.byte(OP.i32Const);
  w.s32(stackSize);
  w.byte(OP.i32LtU);
  trapIf(w, TRAP_STACK);
  w.byte(OP.globalGet);
  w.u32(stackGlobal);
  w.byte(OP.i32Const);
  w.s32(stackSize);
  w.byte(OP.i32Sub);
  w.byte(OP.globalSet);
  w.u32(stackGlobal);
  const frameFee = opts.regularOpCost * Math.ceil(a.frameSize / 8);
  if (frameFee > 0) charge(frameFee);

  const result = m.types[typeIndex]?.results[0];
  w.byte(OP.block);
  w.byte(result === undefined ? 0x40 : VALTYPE_BYTE[result]);

  let point = 0;
  let depth = 0;
  const last = body.count - 1;
  for (let i = 0; i < body.count; i++) {
    while (point < a.pointAt.length && a.pointAt[point] === i) {
      charge(a.pointCost[point] as number);
      point++;
    }
    const op = body.op[i] as number;
    if (i === last) {
      w.byte(OP.end);
      break;
    }
    switch (op) {
      case OP.block:
      case OP.loop:
      case OP.if:
        depth++;
        w.bytes(m.bytes.subarray(body.start[i], body.start[i + 1]));
        break;
      case OP.end:
        depth--;
        w.byte(OP.end);
        break;
      case OP.return:
        // The wrapping block is the target at the current depth.
        w.byte(OP.br);
        w.u32(depth);
        break;
      case OP.globalGet:
      case OP.globalSet:
        w.byte(op);
        w.u32((body.imm[i] as number) + INJECTED_IMPORTED_GLOBALS);
        break;
      default:
        w.bytes(m.bytes.subarray(body.start[i], body.start[i + 1]));
    }
  }
  // Release the stack and return.
  w.byte(OP.globalGet);
  w.u32(stackGlobal);
  w.byte(OP.i32Const);
  w.s32(stackSize);
  w.byte(OP.i32Add);
  w.byte(OP.globalSet);
  w.u32(stackGlobal);
  w.byte(OP.end);

  out.u32(w.length);
  out.bytes(w.finish());
}

function writeLimits(w: ByteWriter, min: number, max: number): void {
  w.byte(1);
  w.u32(min);
  w.u32(max);
}

/** Produces the module V8 runs. `m` must have passed preparation (env imports only). */
export function instrumentModule(m: ParsedModule, opts: InstrumentOptions): Uint8Array {
  const out = new ByteWriter(m.bytes.length * 2 + 1024);
  out.bytes(m.bytes.subarray(0, 8));
  const types: ModuleTypes = {
    types: m.types,
    funcTypes: m.funcTypes,
    globalTypes: m.globals.map((g) => g.type),
  };
  const stackGlobal = INJECTED_IMPORTED_GLOBALS + m.globals.length;
  const charges = new Map<number, Uint8Array>();
  const sectionBytes = (id: number) => {
    const s = m.sections.find((x) => x.id === id);
    return s === undefined ? null : m.bytes.subarray(s.start, s.end);
  };
  const copy = (id: number) => {
    const payload = sectionBytes(id);
    if (payload === null) return;
    out.byte(id);
    out.u32(payload.length);
    out.bytes(payload);
  };

  copy(1);
  // Imports: the module's functions, the standardized memory, the metering globals.
  const imports = new ByteWriter();
  const funcImports = m.imports.filter((i) => i.kind === "func");
  imports.u32(funcImports.length + 3);
  for (const imp of funcImports) {
    imports.name(imp.module);
    imports.name(imp.name);
    imports.byte(0);
    imports.u32(imp.typeIndex);
  }
  imports.name("env");
  imports.name("memory");
  imports.byte(2);
  writeLimits(imports, opts.initialMemoryPages, opts.maxMemoryPages);
  for (const [name, type] of [
    ["gas", VALTYPE_BYTE.f64],
    ["trap", VALTYPE_BYTE.i32],
  ] as const) {
    imports.name("internal");
    imports.name(name);
    imports.byte(3);
    imports.byte(type);
    imports.byte(1);
  }
  out.section(2, imports);
  copy(3);
  copy(4);
  // Globals: the module's own, then the stack budget.
  const globals = new ByteWriter();
  globals.u32(m.globals.length + 1);
  for (const g of m.globals) {
    globals.byte(VALTYPE_BYTE[g.type]);
    globals.byte(g.mutable ? 1 : 0);
    globals.bytes(g.init);
  }
  globals.byte(VALTYPE_BYTE.i32);
  globals.byte(1);
  globals.byte(OP.i32Const);
  globals.s32(opts.maxStackHeight);
  globals.byte(OP.end);
  out.section(6, globals);
  // Exports: global indices move past the injected imports.
  if (m.exports.length > 0) {
    const exports = new ByteWriter();
    exports.u32(m.exports.length);
    for (const e of m.exports) {
      exports.name(e.name);
      exports.byte(e.kind);
      exports.u32(e.kind === 3 ? e.index + INJECTED_IMPORTED_GLOBALS : e.index);
    }
    out.section(7, exports);
  }
  copy(8);
  copy(9);
  if (m.codes.length > 0) {
    const code = new ByteWriter(m.bytes.length * 2);
    code.u32(m.codes.length);
    for (let k = 0; k < m.codes.length; k++) {
      writeBody(code, m, m.importedFuncCount + k, types, opts, stackGlobal, charges);
    }
    out.section(10, code);
  }
  copy(11);
  return out.finish();
}
