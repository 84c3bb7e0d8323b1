// A minimal NEAR host for running built contracts in tests: registers, a storage map,
// the call context, return value, logs, panics, promises (recorded, not executed) and
// ed25519_verify (via @noble/curves). Every other host function throws, so a contract
// that needs more fails loudly. Contracts define and export their own memory.
import { ed25519 } from "@noble/curves/ed25519.js";
import { sha256 } from "@noble/hashes/sha2.js";

const U64_MAX = (1n << 64n) - 1n;
const PROMISE_SUCCESSFUL = 1n;
const PROMISE_FAILED = 2n;

export class HostPanic extends Error {}

export type PromiseAction =
  | { kind: "transfer"; amount: bigint }
  | { kind: "function_call"; method: string; args: string; amount: bigint; gas: bigint }
  | {
      kind: "function_call_weight";
      method: string;
      args: string;
      amount: bigint;
      gas: bigint;
      weight: bigint;
    };

export type RecordedPromise = {
  index: number;
  receiver: string;
  after?: number;
  actions: PromiseAction[];
};

export type CallContext = {
  currentAccountId: string;
  signerAccountId: string;
  predecessorAccountId: string;
  attachedDeposit: bigint;
  blockHeight: bigint;
  blockTimestamp: bigint;
  epochHeight: bigint;
  /** Results of the promises this call is a callback for. */
  promiseResults: Array<{ success: true; value: Uint8Array } | { success: false }>;
};

export type CallOutcome = {
  returnValue: Uint8Array | undefined;
  logs: string[];
  panic: string | undefined;
  promises: RecordedPromise[];
  returnedPromise: number | undefined;
};

const DEFAULT_CONTEXT: CallContext = {
  currentAccountId: "probe.test.near",
  signerAccountId: "alice.test.near",
  predecessorAccountId: "alice.test.near",
  attachedDeposit: 0n,
  blockHeight: 100n,
  blockTimestamp: 1_700_000_000_000_000_000n,
  epochHeight: 7n,
  promiseResults: [],
};

export class NearHost {
  readonly storage = new Map<string, Uint8Array>();
  private readonly module: WebAssembly.Module;

  constructor(wasm: Uint8Array) {
    this.module = new WebAssembly.Module(new Uint8Array(wasm));
  }

  /** Reads a storage value written under a UTF-8 key. */
  storageGet(key: string): string | undefined {
    const value = this.storage.get(Buffer.from(key).toString("hex"));
    return value === undefined ? undefined : Buffer.from(value).toString("utf8");
  }

  call(method: string, args: unknown = {}, context: Partial<CallContext> = {}): CallOutcome {
    const ctx = { ...DEFAULT_CONTEXT, ...context };
    const input = new TextEncoder().encode(typeof args === "string" ? args : JSON.stringify(args));
    const registers = new Map<bigint, Uint8Array>();
    const outcome: CallOutcome = {
      returnValue: undefined,
      logs: [],
      panic: undefined,
      promises: [],
      returnedPromise: undefined,
    };
    let memory: WebAssembly.Memory | undefined;
    const mem = (): Uint8Array => new Uint8Array((memory as WebAssembly.Memory).buffer);
    const read = (ptr: bigint, len: bigint): Uint8Array =>
      mem().slice(Number(ptr), Number(ptr) + Number(len));
    const readText = (ptr: bigint, len: bigint): string => new TextDecoder().decode(read(ptr, len));
    const readU128 = (ptr: bigint): bigint => {
      const bytes = read(ptr, 16n);
      let value = 0n;
      for (let i = 15; i >= 0; i--) value = (value << 8n) | BigInt(bytes[i] as number);
      return value;
    };
    const writeU128 = (ptr: bigint, value: bigint): undefined => {
      const bytes = new Uint8Array(16);
      for (let i = 0; i < 16; i++) bytes[i] = Number((value >> BigInt(8 * i)) & 0xffn);
      mem().set(bytes, Number(ptr));
    };
    const setRegister = (id: bigint, data: Uint8Array): undefined => {
      registers.set(id, data);
    };
    const storageKey = (ptr: bigint, len: bigint): string =>
      Buffer.from(read(ptr, len)).toString("hex");
    const promise = (index: bigint): RecordedPromise => {
      const found = outcome.promises[Number(index)];
      if (!found) throw new HostPanic(`invalid promise index ${index}`);
      return found;
    };
    const newPromise = (receiver: string, after?: number): bigint => {
      outcome.promises.push({ index: outcome.promises.length, receiver, after, actions: [] });
      return BigInt(outcome.promises.length - 1);
    };

    const host: Record<string, (...args: bigint[]) => bigint | undefined> = {
      read_register: (id, ptr) => {
        const data = registers.get(id);
        if (!data) throw new HostPanic(`register ${id} is empty`);
        mem().set(data, Number(ptr));
        return undefined;
      },
      register_len: (id) => BigInt(registers.get(id)?.length ?? U64_MAX),
      write_register: (id, len, ptr) => {
        setRegister(id, read(ptr, len));
        return undefined;
      },
      current_account_id: (id) => setRegister(id, Buffer.from(ctx.currentAccountId)),
      signer_account_id: (id) => setRegister(id, Buffer.from(ctx.signerAccountId)),
      predecessor_account_id: (id) => setRegister(id, Buffer.from(ctx.predecessorAccountId)),
      input: (id) => setRegister(id, input),
      block_index: () => ctx.blockHeight,
      block_timestamp: () => ctx.blockTimestamp,
      epoch_height: () => ctx.epochHeight,
      attached_deposit: (ptr) => writeU128(ptr, ctx.attachedDeposit),
      prepaid_gas: () => 300_000_000_000_000n,
      used_gas: () => 0n,
      sha256: (len, ptr, id) => setRegister(id, sha256(read(ptr, len))),
      value_return: (len, ptr) => {
        outcome.returnValue = read(ptr, len);
        return undefined;
      },
      panic: () => {
        throw new HostPanic("explicit guest panic");
      },
      panic_utf8: (len, ptr) => {
        throw new HostPanic(readText(ptr, len));
      },
      log_utf8: (len, ptr) => {
        outcome.logs.push(readText(ptr, len));
        return undefined;
      },
      storage_write: (keyLen, keyPtr, valueLen, valuePtr, id) => {
        const key = storageKey(keyPtr, keyLen);
        const previous = this.storage.get(key);
        if (previous) setRegister(id, previous);
        this.storage.set(key, read(valuePtr, valueLen));
        return previous ? 1n : 0n;
      },
      storage_read: (keyLen, keyPtr, id) => {
        const value = this.storage.get(storageKey(keyPtr, keyLen));
        if (!value) return 0n;
        setRegister(id, value);
        return 1n;
      },
      storage_remove: (keyLen, keyPtr, id) => {
        const key = storageKey(keyPtr, keyLen);
        const previous = this.storage.get(key);
        if (!previous) return 0n;
        setRegister(id, previous);
        this.storage.delete(key);
        return 1n;
      },
      storage_has_key: (keyLen, keyPtr) => (this.storage.has(storageKey(keyPtr, keyLen)) ? 1n : 0n),
      promise_batch_create: (len, ptr) => newPromise(readText(ptr, len)),
      promise_batch_then: (index, len, ptr) =>
        newPromise(readText(ptr, len), Number(promise(index).index)),
      promise_batch_action_transfer: (index, amountPtr) => {
        promise(index).actions.push({ kind: "transfer", amount: readU128(amountPtr) });
        return undefined;
      },
      promise_batch_action_function_call: (
        index,
        methodLen,
        methodPtr,
        argsLen,
        argsPtr,
        amountPtr,
        gas,
      ) => {
        promise(index).actions.push({
          kind: "function_call",
          method: readText(methodPtr, methodLen),
          args: readText(argsPtr, argsLen),
          amount: readU128(amountPtr),
          gas: gas as bigint,
        });
        return undefined;
      },
      promise_batch_action_function_call_weight: (
        index,
        methodLen,
        methodPtr,
        argsLen,
        argsPtr,
        amountPtr,
        gas,
        weight,
      ) => {
        promise(index).actions.push({
          kind: "function_call_weight",
          method: readText(methodPtr, methodLen),
          args: readText(argsPtr, argsLen),
          amount: readU128(amountPtr),
          gas: gas as bigint,
          weight: weight as bigint,
        });
        return undefined;
      },
      promise_return: (index) => {
        outcome.returnedPromise = promise(index).index;
        return undefined;
      },
      promise_results_count: () => BigInt(ctx.promiseResults.length),
      promise_result: (index, id) => {
        const result = ctx.promiseResults[Number(index)];
        if (!result) throw new HostPanic(`promise result ${index} does not exist`);
        if (!result.success) return PROMISE_FAILED;
        setRegister(id, result.value);
        return PROMISE_SUCCESSFUL;
      },
      ed25519_verify: (sigLen, sigPtr, msgLen, msgPtr, pubLen, pubPtr) => {
        if (sigLen !== 64n) throw new HostPanic("ed25519 signature must be 64 bytes");
        if (pubLen !== 32n) throw new HostPanic("ed25519 public key must be 32 bytes");
        return ed25519.verify(read(sigPtr, sigLen), read(msgPtr, msgLen), read(pubPtr, pubLen))
          ? 1n
          : 0n;
      },
    };

    // Host functions the test host lacks throw when called, not at instantiation.
    const env = new Proxy(host, {
      get: (target, name: string) =>
        target[name] ??
        (() => {
          throw new Error(`host function ${name} is not implemented in the test host`);
        }),
    });
    const instance = new WebAssembly.Instance(this.module, { env });
    memory = instance.exports.memory as WebAssembly.Memory;
    const exported = instance.exports[method];
    if (typeof exported !== "function") throw new Error(`contract has no method ${method}`);
    try {
      exported();
    } catch (error) {
      if (!(error instanceof HostPanic)) throw error;
      outcome.panic = error.message;
    }
    return outcome;
  }
}

/** The return value parsed as JSON (near-sdk-js serialises results as JSON). */
export function returnedJson(outcome: CallOutcome): unknown {
  if (outcome.panic !== undefined) throw new Error(`call panicked: ${outcome.panic}`);
  if (outcome.returnValue === undefined) return undefined;
  return JSON.parse(new TextDecoder().decode(outcome.returnValue));
}
