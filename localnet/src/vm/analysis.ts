/**
 * Gas and stack analysis of one function, as finite-wasm 0.5 does it for nearcore's NearVm:
 * every instruction costs `regular_op_cost` except `block`, `end` and `else` (free); charges are
 * placed at instrumentation points and merged across runs of pure instructions, so a segment is
 * paid for in full at its start. Also computes the frame size (64 bytes + locals) and the maximum
 * operand stack size used by NearVm's stack limit and its frame initialisation fee.
 */
import type { Body } from "./wasm/body.ts";
import type { FuncType } from "./wasm/module.ts";
import { OPS, type ValType, valTypeFromByte } from "./wasm/opcodes.ts";

const PURE = 0;
const UNREACHABLE = 1;
const PRE = 2;
const POST = 3;
const BETWEEN = 4;
const AGGREGATE = 5;

type BranchKind = "untaken" | "forward" | "loop";

interface GasFrame {
  polymorphic: boolean;
  kind: BranchKind;
  loopPre: number;
  loopPost: number;
}

export interface FunctionAnalysis {
  /** Instruction indices where a charge is made, in order, and the charge at each. */
  pointAt: number[];
  pointCost: number[];
  frameSize: number;
  maxOperandSize: number;
}

export interface ModuleTypes {
  types: FuncType[];
  funcTypes: number[];
  globalTypes: ValType[];
}

const SIZE: Record<ValType, number> = { i32: 4, i64: 8, f32: 4, f64: 8 };

function mergeSamePoint(a: number, b: number): number {
  if (a === UNREACHABLE || b === UNREACHABLE) return UNREACHABLE;
  if (a === AGGREGATE || b === AGGREGATE) return -1;
  if (a === PURE) return b;
  if (a === PRE) return b === PRE || b === PURE ? PRE : BETWEEN;
  if (a === POST) return b === POST || b === PURE ? POST : BETWEEN;
  return BETWEEN;
}

function mergeAcross(a: number, b: number): number {
  if (a === PURE && b === PURE) return PURE;
  if (a === UNREACHABLE && b === UNREACHABLE) return UNREACHABLE;
  if (a === POST && b === PRE) return BETWEEN;
  if (a === PURE && b === PRE) return PRE;
  if (a === POST && b === PURE) return POST;
  return -1;
}

function optimize(
  at: number[],
  kinds: number[],
  costs: number[],
  merge: (a: number, b: number) => number,
  sameOffsetOnly: boolean,
): void {
  if (at.length === 0) return;
  let out = 0;
  let pAt = at[0] as number;
  let pKind = kinds[0] as number;
  let pCost = costs[0] as number;
  for (let i = 1; i < at.length; i++) {
    const nAt = at[i] as number;
    const nKind = kinds[i] as number;
    const nCost = costs[i] as number;
    const merged = sameOffsetOnly && pAt !== nAt ? -1 : merge(pKind, nKind);
    if (merged >= 0) {
      pAt = Math.min(pAt, nAt);
      pKind = merged;
      pCost += nCost;
    } else {
      at[out] = pAt;
      kinds[out] = pKind;
      costs[out] = pCost;
      out++;
      pAt = nAt;
      pKind = nKind;
      pCost = nCost;
    }
  }
  at[out] = pAt;
  kinds[out] = pKind;
  costs[out] = pCost;
  out++;
  at.length = out;
  kinds.length = out;
  costs.length = out;
}

export function analyzeFunction(
  body: Body,
  typeIndex: number,
  locals: { count: number; type: ValType }[],
  module: ModuleTypes,
  opCost: number,
): FunctionAnalysis {
  const fnType = module.types[typeIndex] as FuncType;
  const localTypes: ValType[] = [...fnType.params];
  for (const group of locals) for (let k = 0; k < group.count; k++) localTypes.push(group.type);
  let frameSize = 64;
  for (const t of localTypes) frameSize += SIZE[t];

  // Gas analysis state.
  const at: number[] = [];
  const kinds: number[] = [];
  const costs: number[] = [];
  let scheduledKind = -1;
  let scheduledCost = 0;
  const gasFrames: GasFrame[] = [];
  let gasFrame: GasFrame = { polymorphic: false, kind: "untaken", loopPre: 0, loopPost: 0 };

  // Stack analysis state.
  const operands: number[] = [];
  let operandSize = 0;
  let maxOperandSize = 0;
  const stackFrames: { height: number; result: ValType | null; polymorphic: boolean }[] = [];
  let stackFrame = { height: 0, result: null as ValType | null, polymorphic: false };

  let i = 0;
  const before = (kind: number, cost: number) => {
    at.push(i);
    kinds.push(gasFrame.polymorphic ? UNREACHABLE : kind);
    costs.push(cost);
  };
  const after = (kind: number, cost: number) => {
    scheduledKind = kind;
    scheduledCost = cost;
  };
  const sideEffect = (cost: number) => {
    before(PRE, cost);
    after(POST, 0);
  };
  const newGasFrame = (kind: BranchKind, loopPre = 0, loopPost = 0) => {
    gasFrames.push(gasFrame);
    gasFrame = { polymorphic: gasFrame.polymorphic, kind, loopPre, loopPost };
  };
  const endGasFrame = () => {
    const outer = gasFrames.pop();
    if (outer !== undefined) gasFrame = outer;
  };
  const adjustTarget = (depth: number) => {
    const frame = depth === 0 ? gasFrame : gasFrames[gasFrames.length - depth];
    if (frame === undefined) throw new Error("branch depth out of range");
    if (frame.kind === "untaken") frame.kind = "forward";
    else if (frame.kind === "loop") {
      kinds[frame.loopPost] = POST;
      kinds[frame.loopPre] = PRE;
    }
  };

  const push = (t: ValType) => {
    if (stackFrame.polymorphic) return;
    const s = SIZE[t];
    operands.push(s);
    operandSize += s;
    if (operandSize > maxOperandSize) maxOperandSize = operandSize;
  };
  const pop = (n: number) => {
    if (stackFrame.polymorphic) return;
    for (let k = 0; k < n && operands.length > stackFrame.height; k++) {
      operandSize -= operands.pop() as number;
    }
  };
  const truncate = (height: number) => {
    while (operands.length > height) operandSize -= operands.pop() as number;
  };
  const newStackFrame = (blockType: number) => {
    stackFrames.push(stackFrame);
    stackFrame = {
      height: operands.length,
      result: blockType === 0 ? null : valTypeFromByte(blockType),
      polymorphic: stackFrame.polymorphic,
    };
  };
  const callEffect = (t: FuncType) => {
    pop(t.params.length);
    for (const r of t.results) push(r);
  };

  for (i = 0; i < body.count; i++) {
    if (scheduledKind >= 0) {
      at.push(i);
      kinds.push(scheduledKind);
      costs.push(scheduledCost);
      scheduledKind = -1;
    }
    const code = body.op[i] as number;
    const imm = body.imm[i] as number;
    const info = OPS[code];
    if (info === undefined) throw new Error("unknown opcode");
    switch (code) {
      case 0x00: // unreachable
        before(PRE, opCost);
        after(UNREACHABLE, 0);
        gasFrame.polymorphic = true;
        stackFrame.polymorphic = true;
        break;
      case 0x02: // block
        before(PURE, 0);
        newGasFrame("untaken");
        newStackFrame(imm);
        break;
      case 0x03: {
        // loop: charged after entry, so that every iteration pays if it becomes a branch target
        const pre = kinds.length;
        before(PURE, 0);
        after(PURE, opCost);
        newGasFrame("loop", pre, pre + 1);
        newStackFrame(imm);
        break;
      }
      case 0x04: // if
        sideEffect(opCost);
        newGasFrame("forward");
        pop(1);
        newStackFrame(imm);
        break;
      case 0x05: // else
        endGasFrame();
        newGasFrame("forward");
        sideEffect(0);
        truncate(stackFrame.height);
        stackFrame.polymorphic = (stackFrames[stackFrames.length - 1] ?? stackFrame).polymorphic;
        break;
      case 0x0b: {
        // end
        if (gasFrame.kind === "forward") sideEffect(0);
        else before(PURE, 0);
        endGasFrame();
        const outer = stackFrames.pop();
        if (outer !== undefined) {
          const result = stackFrame.result;
          truncate(stackFrame.height);
          stackFrame = outer;
          if (result !== null) push(result);
        }
        break;
      }
      case 0x0c: // br
        sideEffect(opCost);
        adjustTarget(imm);
        gasFrame.polymorphic = true;
        stackFrame.polymorphic = true;
        break;
      case 0x0d: // br_if
        sideEffect(opCost);
        adjustTarget(imm);
        pop(1);
        break;
      case 0x0e: // br_table
        sideEffect(opCost);
        for (const target of body.brTables.get(i) ?? []) adjustTarget(target);
        gasFrame.polymorphic = true;
        pop(1);
        stackFrame.polymorphic = true;
        break;
      case 0x0f: // return
        sideEffect(opCost);
        adjustTarget(gasFrames.length);
        gasFrame.polymorphic = true;
        stackFrame.polymorphic = true;
        break;
      case 0x10: // call
        sideEffect(opCost);
        callEffect(module.types[module.funcTypes[imm] as number] as FuncType);
        break;
      case 0x11: // call_indirect
        sideEffect(opCost);
        pop(1);
        callEffect(module.types[imm] as FuncType);
        break;
      case 0x1a: // drop
        before(PURE, opCost);
        pop(1);
        break;
      case 0x1b: // select
        before(PURE, opCost);
        pop(2);
        break;
      case 0x20: // local.get
        before(PURE, opCost);
        push(localTypes[imm] as ValType);
        break;
      case 0x23: // global.get
        before(PURE, opCost);
        push(module.globalTypes[imm] as ValType);
        break;
      default:
        if (info.gas === "trap") sideEffect(opCost);
        else if (info.gas === "grow") {
          before(AGGREGATE, opCost);
          after(POST, 0);
        } else before(PURE, opCost);
        pop(info.pop);
        if (info.push !== null) push(info.push);
    }
  }

  optimize(at, kinds, costs, mergeSamePoint, true);
  optimize(at, kinds, costs, mergeAcross, false);
  const pointAt: number[] = [];
  const pointCost: number[] = [];
  for (let k = 0; k < at.length; k++) {
    if ((costs[k] as number) === 0 || kinds[k] === UNREACHABLE) continue;
    pointAt.push(at[k] as number);
    pointCost.push(costs[k] as number);
  }
  return { pointAt, pointCost, frameSize, maxOperandSize };
}
