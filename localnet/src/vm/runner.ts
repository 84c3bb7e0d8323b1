/**
 * Runs one function call the way nearcore's NearVm runner does: prepare (cached by code hash),
 * charge contract loading after a successful preparation (protocol 77 does not have
 * fix_contract_loading_cost), resolve the method (an unknown method is a no-op outcome that
 * burns nothing at this protocol), link host functions, instantiate with a fresh memory, run,
 * and turn every contract fault into `aborted`.
 */
import { type RuntimeConfig, runtimeConfig } from "../config/runtime-config.ts";
import { HostError, hostErrors, linkError, methodResolveError, wasmTrap } from "./errors.ts";
import { GasCounter } from "./gas.ts";
import { HOST_FUNCTIONS, type HostFunction } from "./host/table.ts";
import { TRAP_GAS, TRAP_STACK } from "./instrument.ts";
import { VMLogic } from "./logic.ts";
import { type PreparedContract, prepareContract } from "./prepare.ts";
import type { FunctionCallError, FunctionCallInput, RunFunctionCall, VMOutcome } from "./types.ts";
import type { FuncType } from "./wasm/module.ts";

interface Metering {
  gas: WebAssembly.Global;
  trap: WebAssembly.Global;
}

function typeDebug(t: { params: string[]; results: string[] }): string {
  const list = (xs: string[]) => xs.map((x) => x.toUpperCase()).join(", ");
  return `Function(FunctionType { params: [${list(t.params)}], results: [${list(t.results)}] })`;
}

function sameType(a: FuncType, b: HostFunction): boolean {
  return (
    a.params.length === b.params.length &&
    a.results.length === b.results.length &&
    a.params.every((p, i) => p === b.params[i]) &&
    a.results.every((r, i) => r === b.results[i])
  );
}

/** Wraps a host function: keeps the gas counter and the wasm gas global in step. */
function bindHost(
  l: VMLogic,
  m: Metering,
  h: HostFunction,
): (...args: (bigint | number)[]) => unknown {
  const { fn, params } = h;
  return (...args: (bigint | number)[]) => {
    l.gas.burnt = l.gas.limit - (m.gas.value as number);
    for (let i = 0; i < args.length; i++) {
      const a = args[i] as bigint | number;
      args[i] = params[i] === "i64" ? BigInt.asUintN(64, a as bigint) : (a as number) >>> 0;
    }
    const result = fn(l, ...args);
    m.gas.value = l.gas.limit - l.gas.burnt;
    return result;
  };
}

function link(l: VMLogic, m: Metering, prepared: PreparedContract, memory: WebAssembly.Memory) {
  const env: Record<string, unknown> = { memory };
  for (const imp of prepared.imports) {
    const host = HOST_FUNCTIONS[imp.name];
    if (host === undefined) {
      return linkError(
        `Error while importing "env"."${imp.name}": unknown import. Expected ${typeDebug(imp.type)}`,
      );
    }
    if (!sameType(imp.type, host)) {
      return linkError(
        `Error while importing "env"."${imp.name}": incompatible import type. Expected ${typeDebug(host)} but received ${typeDebug(imp.type)}`,
      );
    }
    env[imp.name] = bindHost(l, m, host);
  }
  return { env, internal: { gas: m.gas, trap: m.trap } };
}

function trapError(e: unknown, l: VMLogic, m: Metering): FunctionCallError {
  if (e instanceof HostError) return e.toFunctionCallError();
  // Execution left wasm: the gas global holds what the wasm code burnt since the last host call.
  l.gas.burnt = l.gas.limit - (m.gas.value as number);
  if (e instanceof WebAssembly.RuntimeError) {
    if (m.trap.value === TRAP_GAS) {
      return l.gas.processGasLimit(l.gas.burnt, l.gas.burnt + l.gas.promises).toFunctionCallError();
    }
    if (m.trap.value === TRAP_STACK) return wasmTrap("StackOverflow");
    const msg = e.message;
    if (msg.includes("unreachable")) return wasmTrap("Unreachable");
    if (msg.includes("memory access out of bounds")) return wasmTrap("MemoryOutOfBounds");
    if (msg.includes("table index is out of bounds")) return wasmTrap("MemoryOutOfBounds");
    if (msg.includes("null function")) return wasmTrap("IndirectCallToNull");
    if (msg.includes("signature mismatch")) return wasmTrap("IncorrectCallIndirectSignature");
    if (/divide by zero|remainder by zero|integer overflow|unrepresentable/.test(msg)) {
      return wasmTrap("IllegalArithmetic");
    }
    return wasmTrap("Unreachable");
  }
  if (e instanceof RangeError && e.message.includes("call stack")) return wasmTrap("StackOverflow");
  throw e;
}

/** Gives unused prepaid gas to function calls made with a weight (nearcore's distribute_gas). */
function distributeGas(l: VMLogic): void {
  const prepaid = l.context.prepaidGas;
  const unused = prepaid - BigInt(l.gas.used());
  const total = l.gasWeights.reduce((sum, [, , w]) => sum + w, 0n);
  if (total === 0n || unused <= 0n) return;
  let distributed = 0n;
  const addGas = (receipt: number, action: number, gas: bigint) => {
    const a = l.receipts[receipt]?.actions[action];
    if (a?.kind === "functionCall") a.gas += gas;
  };
  for (const [receipt, action, weight] of l.gasWeights) {
    const assigned = (unused * weight) / total;
    distributed += assigned;
    addGas(receipt, action, assigned);
  }
  const last = l.gasWeights[l.gasWeights.length - 1];
  if (last !== undefined && unused > distributed) addGas(last[0], last[1], unused - distributed);
  l.gas.promises += Number(unused);
}

function outcome(l: VMLogic, aborted: FunctionCallError | null): VMOutcome {
  return {
    balance: l.balance,
    storageUsage: l.storageUsage,
    returnData: aborted === null ? l.returnData : { kind: "none" },
    burntGas: BigInt(l.gas.burnt),
    usedGas: BigInt(l.gas.used()),
    logs: l.logs,
    profile: l.gas.profile(),
    receipts: aborted === null ? l.receipts : [],
    aborted,
  };
}

/** nearcore's nop outcome (a method that cannot be resolved burns nothing at protocol 77). */
function nopOutcome(l: VMLogic, aborted: FunctionCallError): VMOutcome {
  return {
    balance: l.context.accountBalance,
    storageUsage: l.context.storageUsage,
    returnData: { kind: "none" },
    burntGas: 0n,
    usedGas: 0n,
    logs: [],
    profile: [],
    receipts: [],
    aborted,
  };
}

export function createRunner(config: RuntimeConfig = runtimeConfig): RunFunctionCall {
  const cache = new Map<string, PreparedContract | FunctionCallError>();
  const limits = config.wasm_config.limit_config;

  return ({ code, codeHash, methodName, context, ext }: FunctionCallInput): VMOutcome => {
    const maxBurnt =
      context.view === null ? limits.max_gas_burnt : Number(context.view.maxGasBurnt);
    const gas = new GasCounter(
      config.wasm_config.ext_costs,
      maxBurnt,
      Number(context.prepaidGas),
      context.view !== null,
    );
    const l = new VMLogic(context, ext, config, gas);
    if (methodName === "") return outcome(l, methodResolveError("MethodEmptyName"));

    const key = Buffer.from(codeHash).toString("hex");
    let prepared = cache.get(key);
    if (prepared === undefined) {
      prepared = prepareContract(code, config);
      cache.set(key, prepared);
    }
    if (!("module" in prepared)) return outcome(l, prepared);

    try {
      gas.payPer("contract_loading_bytes", code.length);
      gas.payBase("contract_loading_base");
    } catch (e) {
      if (!(e instanceof HostError)) throw e;
      return outcome(l, hostErrors.gasExceeded().toFunctionCallError());
    }

    const method = prepared.exports.get(methodName);
    if (method === undefined) return nopOutcome(l, methodResolveError("MethodNotFound"));
    if (method.params.length > 0 || method.results.length > 0) {
      return nopOutcome(l, methodResolveError("MethodInvalidSignature"));
    }

    const m: Metering = {
      gas: new WebAssembly.Global({ value: "f64", mutable: true }, gas.limit - gas.burnt),
      trap: new WebAssembly.Global({ value: "i32", mutable: true }, 0),
    };
    const memory = new WebAssembly.Memory({
      initial: limits.initial_memory_pages,
      maximum: limits.max_memory_pages,
    });
    const imports = link(l, m, prepared, memory);
    if ("view" in imports) return outcome(l, imports);
    l.memory = memory;
    try {
      const instance = new WebAssembly.Instance(prepared.module, imports as WebAssembly.Imports);
      const entry = instance.exports[methodName] as () => void;
      entry();
      gas.burnt = gas.limit - (m.gas.value as number);
    } catch (e) {
      return outcome(l, trapError(e, l, m));
    }
    distributeGas(l);
    return outcome(l, null);
  };
}
