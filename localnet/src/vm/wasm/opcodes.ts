/**
 * The instructions nearcore accepts at protocol 77: WebAssembly MVP plus sign extension
 * (nearcore's prepare V2 enables only `sign_extension` beyond MVP). For each opcode: how its
 * immediates are encoded, how finite-wasm classifies it for gas, and its operand-stack effect.
 */

export type Imm =
  | "none"
  | "block"
  | "label"
  | "brTable"
  | "func"
  | "callIndirect"
  | "local"
  | "global"
  | "memarg"
  | "zeroByte"
  | "i32"
  | "i64"
  | "f32"
  | "f64";

/**
 * finite-wasm's classification: `pure` instructions merge freely; `trap` ones (loads, stores,
 * integer division, float-to-int truncation, calls) end a gas segment before and after;
 * `grow` is memory.grow (an aggregate); `control` ones are handled one by one.
 */
export type GasClass = "pure" | "trap" | "grow" | "control";

export type ValType = "i32" | "i64" | "f32" | "f64";

export interface OpInfo {
  name: string;
  imm: Imm;
  gas: GasClass;
  /** Operands popped, for instructions with a fixed effect (-1: computed by the analysis). */
  pop: number;
  /** Result type pushed, if any, for instructions with a fixed effect. */
  push: ValType | null;
}

export const OPS: (OpInfo | undefined)[] = new Array(256);

function def(
  code: number,
  name: string,
  imm: Imm,
  gas: GasClass,
  pop: number,
  push: ValType | null,
) {
  OPS[code] = { name, imm, gas, pop, push };
}

// Control.
def(0x00, "unreachable", "none", "control", -1, null);
def(0x01, "nop", "none", "pure", 0, null);
def(0x02, "block", "block", "control", -1, null);
def(0x03, "loop", "block", "control", -1, null);
def(0x04, "if", "block", "control", -1, null);
def(0x05, "else", "none", "control", -1, null);
def(0x0b, "end", "none", "control", -1, null);
def(0x0c, "br", "label", "control", -1, null);
def(0x0d, "br_if", "label", "control", -1, null);
def(0x0e, "br_table", "brTable", "control", -1, null);
def(0x0f, "return", "none", "control", -1, null);
def(0x10, "call", "func", "trap", -1, null);
def(0x11, "call_indirect", "callIndirect", "trap", -1, null);
// Parametric and variables.
def(0x1a, "drop", "none", "pure", -1, null);
def(0x1b, "select", "none", "pure", -1, null);
def(0x20, "local.get", "local", "pure", -1, null);
def(0x21, "local.set", "local", "pure", 1, null);
def(0x22, "local.tee", "local", "pure", 0, null);
def(0x23, "global.get", "global", "pure", -1, null);
def(0x24, "global.set", "global", "pure", 1, null);
// Memory.
const loads: [number, string, ValType][] = [
  [0x28, "i32.load", "i32"],
  [0x29, "i64.load", "i64"],
  [0x2a, "f32.load", "f32"],
  [0x2b, "f64.load", "f64"],
  [0x2c, "i32.load8_s", "i32"],
  [0x2d, "i32.load8_u", "i32"],
  [0x2e, "i32.load16_s", "i32"],
  [0x2f, "i32.load16_u", "i32"],
  [0x30, "i64.load8_s", "i64"],
  [0x31, "i64.load8_u", "i64"],
  [0x32, "i64.load16_s", "i64"],
  [0x33, "i64.load16_u", "i64"],
  [0x34, "i64.load32_s", "i64"],
  [0x35, "i64.load32_u", "i64"],
];
for (const [code, name, ty] of loads) def(code, name, "memarg", "trap", 1, ty);
const stores = ["i32.store", "i64.store", "f32.store", "f64.store", "i32.store8", "i32.store16"];
stores.push("i64.store8", "i64.store16", "i64.store32");
for (const [i, name] of stores.entries()) def(0x36 + i, name, "memarg", "trap", 2, null);
def(0x3f, "memory.size", "zeroByte", "pure", 0, "i32");
def(0x40, "memory.grow", "zeroByte", "grow", 1, "i32");
// Constants.
def(0x41, "i32.const", "i32", "pure", 0, "i32");
def(0x42, "i64.const", "i64", "pure", 0, "i64");
def(0x43, "f32.const", "f32", "pure", 0, "f32");
def(0x44, "f64.const", "f64", "pure", 0, "f64");

function range(from: number, to: number, pop: number, push: ValType, prefix: string) {
  for (let code = from; code <= to; code++)
    def(code, `${prefix}${code.toString(16)}`, "none", "pure", pop, push);
}
// Comparisons (testop/relop) all produce i32.
range(0x45, 0x45, 1, "i32", "i32.test_");
range(0x46, 0x4f, 2, "i32", "i32.rel_");
range(0x50, 0x50, 1, "i32", "i64.test_");
range(0x51, 0x5a, 2, "i32", "i64.rel_");
range(0x5b, 0x60, 2, "i32", "f32.rel_");
range(0x61, 0x66, 2, "i32", "f64.rel_");
// Arithmetic.
range(0x67, 0x69, 1, "i32", "i32.un_");
range(0x6a, 0x78, 2, "i32", "i32.bin_");
range(0x79, 0x7b, 1, "i64", "i64.un_");
range(0x7c, 0x8a, 2, "i64", "i64.bin_");
range(0x8b, 0x91, 1, "f32", "f32.un_");
range(0x92, 0x98, 2, "f32", "f32.bin_");
range(0x99, 0x9f, 1, "f64", "f64.un_");
range(0xa0, 0xa6, 2, "f64", "f64.bin_");
// Conversions.
const conversions: [number, number, ValType][] = [
  [0xa7, 0xab, "i32"],
  [0xac, 0xb1, "i64"],
  [0xb2, 0xb6, "f32"],
  [0xb7, 0xbb, "f64"],
  [0xbc, 0xbc, "i32"],
  [0xbd, 0xbd, "i64"],
  [0xbe, 0xbe, "f32"],
  [0xbf, 0xbf, "f64"],
];
for (const [from, to, ty] of conversions) range(from, to, 1, ty, `${ty}.cvt_`);
// Sign extension (enabled by nearcore since prepare V2).
range(0xc0, 0xc1, 1, "i32", "i32.extend_");
range(0xc2, 0xc4, 1, "i64", "i64.extend_");

// Integer division/remainder and float-to-int truncation may trap: finite-wasm treats them as
// side effects.
for (const code of [0x6d, 0x6e, 0x6f, 0x70, 0x7f, 0x80, 0x81, 0x82]) {
  (OPS[code] as OpInfo).gas = "trap";
}
for (const code of [0xa8, 0xa9, 0xaa, 0xab, 0xae, 0xaf, 0xb0, 0xb1]) {
  (OPS[code] as OpInfo).gas = "trap";
}

export const OP = {
  unreachable: 0x00,
  block: 0x02,
  loop: 0x03,
  if: 0x04,
  else: 0x05,
  end: 0x0b,
  br: 0x0c,
  brIf: 0x0d,
  brTable: 0x0e,
  return: 0x0f,
  call: 0x10,
  callIndirect: 0x11,
  drop: 0x1a,
  select: 0x1b,
  localGet: 0x20,
  localSet: 0x21,
  localTee: 0x22,
  globalGet: 0x23,
  globalSet: 0x24,
  i32Const: 0x41,
  i64Const: 0x42,
  f64Const: 0x44,
  i32LtU: 0x49,
  i32Add: 0x6a,
  i32Sub: 0x6b,
  f64Le: 0x65,
  f64Sub: 0xa1,
} as const;

export const VALTYPE_BYTE: Record<ValType, number> = { i32: 0x7f, i64: 0x7e, f32: 0x7d, f64: 0x7c };

export function valTypeFromByte(b: number): ValType | null {
  switch (b) {
    case 0x7f:
      return "i32";
    case 0x7e:
      return "i64";
    case 0x7d:
      return "f32";
    case 0x7c:
      return "f64";
    default:
      return null;
  }
}
