/**
 * nearcore's FunctionCallError in its two outward forms (see types.ts): the RPC view inside
 * ActionErrorKind::FunctionCallError and Rust's Debug string. Texts follow
 * near-vm-runner/src/logic/errors.rs; WasmTrap and HostError become `ExecutionError` strings in
 * the view, as runtime/runtime/src/actions.rs does.
 */
import type { FunctionCallError } from "./types.ts";

/** Rust's `{:?}` for a string. */
export function rustDebugStr(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0) as number;
    if (ch === '"') out += '\\"';
    else if (ch === "\\") out += "\\\\";
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (c === 0) out += "\\0";
    else if (c < 0x20 || (c >= 0x7f && c < 0xa0)) out += `\\u{${c.toString(16)}}`;
    else out += ch;
  }
  return `${out}"`;
}

/** A HostError raised by a host function; aborts the call. */
export class HostError extends Error {
  /** Rust Debug of the HostError variant, e.g. `GuestPanic { panic_msg: "boom" }`. */
  readonly debug: string;
  constructor(display: string, debug: string) {
    super(display);
    this.debug = debug;
  }
  toFunctionCallError(): FunctionCallError {
    return { view: { ExecutionError: this.message }, debug: `HostError(${this.debug})` };
  }
}

function fields(name: string, entries: [string, string][]): string {
  return `${name} { ${entries.map(([k, v]) => `${k}: ${v}`).join(", ")} }`;
}

export const hostErrors = {
  badUtf16: () => new HostError("String encoding is bad UTF-16 sequence.", "BadUTF16"),
  badUtf8: () => new HostError("String encoding is bad UTF-8 sequence.", "BadUTF8"),
  gasExceeded: () => new HostError("Exceeded the prepaid gas.", "GasExceeded"),
  gasLimitExceeded: () =>
    new HostError(
      "Exceeded the maximum amount of gas allowed to burn per contract.",
      "GasLimitExceeded",
    ),
  balanceExceeded: () => new HostError("Exceeded the account balance.", "BalanceExceeded"),
  emptyMethodName: () => new HostError("Tried to call an empty method name.", "EmptyMethodName"),
  guestPanic: (msg: string) =>
    new HostError(
      `Smart contract panicked: ${msg}`,
      fields("GuestPanic", [["panic_msg", rustDebugStr(msg)]]),
    ),
  integerOverflow: () => new HostError("Integer overflow.", "IntegerOverflow"),
  invalidPromiseIndex: (idx: bigint) =>
    new HostError(
      `${idx} does not correspond to existing promises`,
      fields("InvalidPromiseIndex", [["promise_idx", `${idx}`]]),
    ),
  cannotAppendActionToJointPromise: () =>
    new HostError(
      "Actions can only be appended to non-joint promise.",
      "CannotAppendActionToJointPromise",
    ),
  cannotReturnJointPromise: () =>
    new HostError("Returning joint promise is currently prohibited.", "CannotReturnJointPromise"),
  invalidPromiseResultIndex: (idx: bigint) =>
    new HostError(
      `Accessed invalid promise result index: ${idx}`,
      fields("InvalidPromiseResultIndex", [["result_idx", `${idx}`]]),
    ),
  invalidRegisterId: (id: bigint) =>
    new HostError(
      `Accessed invalid register id: ${id}`,
      fields("InvalidRegisterId", [["register_id", `${id}`]]),
    ),
  memoryAccessViolation: () =>
    new HostError("Accessed memory outside the bounds.", "MemoryAccessViolation"),
  invalidAccountId: () =>
    new HostError("VM Logic returned an invalid account id", "InvalidAccountId"),
  invalidMethodName: () =>
    new HostError("VM Logic returned an invalid method name", "InvalidMethodName"),
  invalidPublicKey: () =>
    new HostError("VM Logic provided an invalid public key", "InvalidPublicKey"),
  prohibitedInView: (method: string) =>
    new HostError(
      `${method} is not allowed in view calls`,
      fields("ProhibitedInView", [["method_name", rustDebugStr(method)]]),
    ),
  numberOfLogsExceeded: (limit: number) =>
    new HostError(
      `The number of logs will exceed the limit ${limit}`,
      fields("NumberOfLogsExceeded", [["limit", `${limit}`]]),
    ),
  keyLengthExceeded: (length: number, limit: number) =>
    new HostError(
      `The length of a storage key ${length} exceeds the limit ${limit}`,
      fields("KeyLengthExceeded", [
        ["length", `${length}`],
        ["limit", `${limit}`],
      ]),
    ),
  valueLengthExceeded: (length: number, limit: number) =>
    new HostError(
      `The length of a storage value ${length} exceeds the limit ${limit}`,
      fields("ValueLengthExceeded", [
        ["length", `${length}`],
        ["limit", `${limit}`],
      ]),
    ),
  totalLogLengthExceeded: (length: bigint, limit: number) =>
    new HostError(
      `The length of a log message ${length} exceeds the limit ${limit}`,
      fields("TotalLogLengthExceeded", [
        ["length", `${length}`],
        ["limit", `${limit}`],
      ]),
    ),
  numberPromisesExceeded: (n: number, limit: number) =>
    new HostError(
      `The number of promises within a FunctionCall ${n} exceeds the limit ${limit}`,
      fields("NumberPromisesExceeded", [
        ["number_of_promises", `${n}`],
        ["limit", `${limit}`],
      ]),
    ),
  numberInputDataDependenciesExceeded: (n: number, limit: number) =>
    new HostError(
      `The number of input data dependencies ${n} exceeds the limit ${limit}`,
      fields("NumberInputDataDependenciesExceeded", [
        ["number_of_input_data_dependencies", `${n}`],
        ["limit", `${limit}`],
      ]),
    ),
  returnedValueLengthExceeded: (length: number, limit: number) =>
    new HostError(
      `The length of a returned value ${length} exceeds the limit ${limit}`,
      fields("ReturnedValueLengthExceeded", [
        ["length", `${length}`],
        ["limit", `${limit}`],
      ]),
    ),
  contractSizeExceeded: (size: number, limit: number) =>
    new HostError(
      `The size of a contract code in DeployContract action ${size} exceeds the limit ${limit}`,
      fields("ContractSizeExceeded", [
        ["size", `${size}`],
        ["limit", `${limit}`],
      ]),
    ),
  deprecated: (method: string) =>
    new HostError(
      `Attempted to call deprecated host function ${method}`,
      fields("Deprecated", [["method_name", rustDebugStr(method)]]),
    ),
  ecrecoverError: (msg: string) =>
    new HostError(
      `ECDSA recover error: ${msg}`,
      fields("ECRecoverError", [["msg", rustDebugStr(msg)]]),
    ),
  altBn128InvalidInput: (msg: string) =>
    new HostError(
      `AltBn128 invalid input: ${msg}`,
      fields("AltBn128InvalidInput", [["msg", rustDebugStr(msg)]]),
    ),
  ed25519VerifyInvalidInput: (msg: string) =>
    new HostError(
      `ED25519 signature verification error: ${msg}`,
      fields("Ed25519VerifyInvalidInput", [["msg", rustDebugStr(msg)]]),
    ),
  bls12381InvalidInput: (msg: string) =>
    new HostError(
      `BLS12-381 invalid input: ${msg}`,
      fields("BLS12381InvalidInput", [["msg", rustDebugStr(msg)]]),
    ),
  /** Not a nearcore error: a host function localnet does not implement. */
  unsupported: (method: string) =>
    new HostError(
      `${method} is not supported by localnet`,
      fields("Unsupported", [["method_name", rustDebugStr(method)]]),
    ),
};

export type WasmTrapKind =
  | "Unreachable"
  | "IncorrectCallIndirectSignature"
  | "MemoryOutOfBounds"
  | "IllegalArithmetic"
  | "IndirectCallToNull"
  | "StackOverflow";

const TRAP_TEXT: Record<WasmTrapKind, string> = {
  Unreachable: "An `unreachable` opcode was executed.",
  IncorrectCallIndirectSignature: "Call indirect incorrect signature trap.",
  MemoryOutOfBounds: "Memory out of bounds trap.",
  IllegalArithmetic: "An arithmetic exception, e.g. divided by zero.",
  IndirectCallToNull: "Indirect call to null.",
  StackOverflow: "Stack overflow.",
};

export function wasmTrap(kind: WasmTrapKind): FunctionCallError {
  return {
    view: { ExecutionError: `WebAssembly trap: ${TRAP_TEXT[kind]}` },
    debug: `WasmTrap(${kind})`,
  };
}

export type MethodResolveKind = "MethodEmptyName" | "MethodNotFound" | "MethodInvalidSignature";

export function methodResolveError(kind: MethodResolveKind): FunctionCallError {
  return { view: { MethodResolveError: kind }, debug: `MethodResolveError(${kind})` };
}

export type PrepareErrorKind =
  | "Serialization"
  | "Deserialization"
  | "Instantiate"
  | "Memory"
  | "TooManyFunctions"
  | "TooManyLocals";

export function prepareError(kind: PrepareErrorKind): FunctionCallError {
  return {
    view: { CompilationError: { PrepareError: kind } },
    debug: `CompilationError(PrepareError(${kind}))`,
  };
}

export function compileError(msg: string): FunctionCallError {
  return {
    view: { CompilationError: { WasmerCompileError: { msg } } },
    debug: `CompilationError(WasmerCompileError { msg: ${rustDebugStr(msg)} })`,
  };
}

export function linkError(msg: string): FunctionCallError {
  return {
    view: { ExecutionError: `Link Error: ${msg}` },
    debug: `LinkError { msg: ${rustDebugStr(msg)} }`,
  };
}
