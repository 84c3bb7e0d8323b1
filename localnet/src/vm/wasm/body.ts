/** Decodes a function body into a flat instruction list (opcode, byte offset, first immediate). */
import { ByteReader, WasmDecodeError } from "./binary.ts";
import { OPS } from "./opcodes.ts";

export interface Body {
  count: number;
  op: Uint8Array;
  /** Byte offset of each instruction in the module; `start[count]` is the body end. */
  start: Uint32Array;
  /**
   * First immediate: label depth (br, br_if), function index (call), type index
   * (call_indirect), local or global index, block result type byte (0 when empty).
   */
  imm: Int32Array;
  /** br_table targets, default last. */
  brTables: Map<number, number[]>;
}

export function decodeBody(bytes: Uint8Array, from: number, to: number): Body {
  const capacity = Math.max(16, to - from);
  const op = new Uint8Array(capacity);
  const start = new Uint32Array(capacity + 1);
  const imm = new Int32Array(capacity);
  const brTables = new Map<number, number[]>();
  const r = new ByteReader(bytes, from, to);
  let n = 0;
  let depth = 1;
  while (depth > 0) {
    if (r.eof()) throw new WasmDecodeError("function body without end");
    start[n] = r.pos;
    const code = r.u8();
    const info = OPS[code];
    if (info === undefined) {
      throw new WasmDecodeError(`unsupported opcode 0x${code.toString(16)}`);
    }
    op[n] = code;
    switch (info.imm) {
      case "none":
        if (code === 0x0b) depth--;
        break;
      case "block": {
        const bt = r.s33();
        if (bt === -64) imm[n] = 0;
        else if (bt >= -4 && bt <= -1) imm[n] = 0x80 + bt;
        else throw new WasmDecodeError("multi-value block types are not enabled");
        depth++;
        break;
      }
      case "label":
      case "func":
      case "local":
      case "global":
        imm[n] = r.u32();
        break;
      case "brTable": {
        const targets: number[] = [];
        for (let k = r.u32(); k > 0; k--) targets.push(r.u32());
        targets.push(r.u32());
        brTables.set(n, targets);
        break;
      }
      case "callIndirect":
        imm[n] = r.u32();
        if (r.u8() !== 0) throw new WasmDecodeError("call_indirect table index must be 0");
        break;
      case "memarg":
        r.u32();
        r.u32();
        break;
      case "zeroByte":
        if (r.u8() !== 0) throw new WasmDecodeError("memory index must be 0");
        break;
      case "i32":
        r.skipSigned(32);
        break;
      case "i64":
        r.skipSigned(64);
        break;
      case "f32":
        r.take(4);
        break;
      case "f64":
        r.take(8);
        break;
    }
    n++;
  }
  if (!r.eof()) throw new WasmDecodeError("trailing bytes after function end");
  start[n] = r.pos;
  return { count: n, op, start, imm, brTables };
}
