/** Section-level parse of a WebAssembly module: enough structure to prepare and instrument it. */
import { ByteReader, WasmDecodeError } from "./binary.ts";
import { type ValType, valTypeFromByte } from "./opcodes.ts";

export interface FuncType {
  params: ValType[];
  results: ValType[];
}

export type ImportKind = "func" | "table" | "memory" | "global";

export interface Import {
  module: string;
  name: string;
  kind: ImportKind;
  /** Type index, for function imports. */
  typeIndex: number;
}

export interface Export {
  name: string;
  /** 0 function, 1 table, 2 memory, 3 global. */
  kind: number;
  index: number;
}

export interface GlobalDef {
  type: ValType;
  mutable: boolean;
  /** Raw bytes of the init expression including its `end`. */
  init: Uint8Array;
}

export interface CodeEntry {
  /** Declared locals (not parameters), as run-length groups. */
  locals: { count: number; type: ValType }[];
  /** Raw bytes of the local declarations (count + groups). */
  localsBytes: Uint8Array;
  /** Offset of the first instruction and the end of the body, in module bytes. */
  codeStart: number;
  codeEnd: number;
}

export interface Section {
  id: number;
  /** Payload range in module bytes. */
  start: number;
  end: number;
}

export interface ParsedModule {
  bytes: Uint8Array;
  sections: Section[];
  types: FuncType[];
  imports: Import[];
  /** Type index of every function, imported ones first. */
  funcTypes: number[];
  importedFuncCount: number;
  globals: GlobalDef[];
  exports: Export[];
  codes: CodeEntry[];
  hasMemorySection: boolean;
  tableCount: number;
}

const SECTION_ORDER = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];

function valType(r: ByteReader): ValType {
  const t = valTypeFromByte(r.u8());
  if (t === null) throw new WasmDecodeError("unsupported value type");
  return t;
}

function skipLimits(r: ByteReader): void {
  const flag = r.u8();
  if (flag !== 0 && flag !== 1) throw new WasmDecodeError("unsupported limits flag");
  r.u32();
  if (flag === 1) r.u32();
}

/** Skips a constant expression (MVP: one const or global.get, then `end`). */
function constExpr(r: ByteReader): Uint8Array {
  const start = r.pos;
  const op = r.u8();
  switch (op) {
    case 0x41:
      r.skipSigned(32);
      break;
    case 0x42:
      r.skipSigned(64);
      break;
    case 0x43:
      r.take(4);
      break;
    case 0x44:
      r.take(8);
      break;
    case 0x23:
      r.u32();
      break;
    default:
      throw new WasmDecodeError("unsupported constant expression");
  }
  if (r.u8() !== 0x0b) throw new WasmDecodeError("constant expression without end");
  return r.bytes.subarray(start, r.pos);
}

export function parseModule(bytes: Uint8Array): ParsedModule {
  const r = new ByteReader(bytes);
  const magic = r.take(4);
  if (magic[0] !== 0 || magic[1] !== 0x61 || magic[2] !== 0x73 || magic[3] !== 0x6d) {
    throw new WasmDecodeError("bad magic");
  }
  const version = r.take(4);
  if (version[0] !== 1 || version[1] !== 0 || version[2] !== 0 || version[3] !== 0) {
    throw new WasmDecodeError("unsupported version");
  }
  const m: ParsedModule = {
    bytes,
    sections: [],
    types: [],
    imports: [],
    funcTypes: [],
    importedFuncCount: 0,
    globals: [],
    exports: [],
    codes: [],
    hasMemorySection: false,
    tableCount: 0,
  };
  let lastId = 0;
  let declaredFuncs = 0;
  while (!r.eof()) {
    const id = r.u8();
    const size = r.u32();
    const start = r.pos;
    const end = start + size;
    if (end > bytes.length) throw new WasmDecodeError("section exceeds module");
    if (!SECTION_ORDER.includes(id)) throw new WasmDecodeError(`unsupported section ${id}`);
    if (id !== 0) {
      if (id <= lastId) throw new WasmDecodeError("sections out of order or duplicated");
      lastId = id;
    }
    m.sections.push({ id, start, end });
    const s = new ByteReader(bytes, start, end);
    switch (id) {
      case 0:
        s.name();
        break;
      case 1:
        for (let n = s.u32(); n > 0; n--) {
          if (s.u8() !== 0x60) throw new WasmDecodeError("unsupported type form");
          const params: ValType[] = [];
          for (let k = s.u32(); k > 0; k--) params.push(valType(s));
          const results: ValType[] = [];
          for (let k = s.u32(); k > 0; k--) results.push(valType(s));
          if (results.length > 1) throw new WasmDecodeError("multi-value is not enabled");
          m.types.push({ params, results });
        }
        break;
      case 2:
        for (let n = s.u32(); n > 0; n--) {
          const module = s.name();
          const name = s.name();
          const kindByte = s.u8();
          let kind: ImportKind;
          let typeIndex = -1;
          if (kindByte === 0) {
            kind = "func";
            typeIndex = s.u32();
            if (typeIndex >= m.types.length) throw new WasmDecodeError("unknown type");
            m.funcTypes.push(typeIndex);
            m.importedFuncCount++;
          } else if (kindByte === 1) {
            kind = "table";
            if (s.u8() !== 0x70) throw new WasmDecodeError("unsupported table type");
            skipLimits(s);
          } else if (kindByte === 2) {
            kind = "memory";
            skipLimits(s);
          } else if (kindByte === 3) {
            kind = "global";
            valType(s);
            s.u8();
          } else {
            throw new WasmDecodeError("unsupported import kind");
          }
          m.imports.push({ module, name, kind, typeIndex });
        }
        break;
      case 3:
        for (let n = s.u32(); n > 0; n--) {
          const t = s.u32();
          if (t >= m.types.length) throw new WasmDecodeError("unknown type");
          m.funcTypes.push(t);
          declaredFuncs++;
        }
        break;
      case 4:
        for (let n = s.u32(); n > 0; n--) {
          if (s.u8() !== 0x70) throw new WasmDecodeError("unsupported table type");
          skipLimits(s);
          m.tableCount++;
        }
        break;
      case 5:
        m.hasMemorySection = true;
        for (let n = s.u32(); n > 0; n--) skipLimits(s);
        break;
      case 6:
        for (let n = s.u32(); n > 0; n--) {
          const type = valType(s);
          const mut = s.u8();
          if (mut > 1) throw new WasmDecodeError("bad global mutability");
          m.globals.push({ type, mutable: mut === 1, init: constExpr(s) });
        }
        break;
      case 7:
        for (let n = s.u32(); n > 0; n--) {
          const name = s.name();
          const kind = s.u8();
          if (kind > 3) throw new WasmDecodeError("bad export kind");
          m.exports.push({ name, kind, index: s.u32() });
        }
        break;
      case 8:
        s.u32();
        break;
      case 9:
        for (let n = s.u32(); n > 0; n--) {
          if (s.u32() !== 0) throw new WasmDecodeError("unsupported element segment");
          constExpr(s);
          for (let k = s.u32(); k > 0; k--) s.u32();
        }
        break;
      case 10: {
        const count = s.u32();
        if (count !== declaredFuncs) throw new WasmDecodeError("function and code counts differ");
        for (let n = 0; n < count; n++) {
          const bodySize = s.u32();
          const bodyStart = s.pos;
          const body = new ByteReader(bytes, bodyStart, bodyStart + bodySize);
          s.take(bodySize);
          const locals: { count: number; type: ValType }[] = [];
          for (let g = body.u32(); g > 0; g--) {
            const c = body.u32();
            locals.push({ count: c, type: valType(body) });
          }
          m.codes.push({
            locals,
            localsBytes: bytes.subarray(bodyStart, body.pos),
            codeStart: body.pos,
            codeEnd: bodyStart + bodySize,
          });
        }
        break;
      }
      case 11:
        for (let n = s.u32(); n > 0; n--) {
          if (s.u32() !== 0) throw new WasmDecodeError("unsupported data segment");
          constExpr(s);
          s.take(s.u32());
        }
        break;
    }
    if (id !== 0 && s.pos !== end) throw new WasmDecodeError("section size mismatch");
    r.pos = end;
  }
  if (m.codes.length !== declaredFuncs) throw new WasmDecodeError("missing code section");
  return m;
}
