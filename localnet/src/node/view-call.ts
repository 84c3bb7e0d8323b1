/**
 * A view call (query call_function): the contract's method run read-only against the state of
 * one block, as nearcore's state viewer does it.
 */
import type { RuntimeConfig } from "../config/runtime-config.ts";
import { AccountTrie, latin1Key } from "../runtime/trie-model.ts";
import type { StateReader } from "../runtime/types.ts";
import type { External, RunFunctionCall, VMOutcome } from "../vm/types.ts";
import type { Block } from "./chain.ts";
import { hexKey } from "./encoding.ts";

export type ViewCallResult =
  | { kind: "ok"; result: Uint8Array; logs: string[] }
  | { kind: "noAccount" }
  | { kind: "noCode" }
  /** nearcore's message: "wasm execution failed with error: FunctionCallError(...)". */
  | { kind: "failed"; message: string };

/** Reads go to the state; writes (which the VM forbids in views anyway) stay in an overlay. */
function readOnlyExternal(
  state: StateReader,
  accountId: string,
  validators: ReadonlyMap<string, bigint>,
): External {
  const overlay = new Map<string, Uint8Array | null>();
  const read = (key: Uint8Array): Uint8Array | null => {
    const hex = hexKey(key);
    return overlay.has(hex) ? (overlay.get(hex) ?? null) : state.getData(accountId, key);
  };
  let dataIds = 0;
  // Views write nothing (the VM refuses): the keys are the block's, the cache is the call's.
  const trie = new AccountTrie(accountId, new Set(), () =>
    state.listData(accountId, new Uint8Array()).map(({ key }) => latin1Key(key)),
  );
  return {
    storageGet: read,
    storageSet(key, value) {
      const previous = read(key);
      overlay.set(hexKey(key), value);
      return previous;
    },
    storageRemove(key) {
      const previous = read(key);
      overlay.set(hexKey(key), null);
      return previous;
    },
    storageHasKey: (key) => read(key) !== null,
    trieAccess: (key, readsValue) => trie.access(key, readsValue),
    generateDataId() {
      dataIds += 1;
      const id = new Uint8Array(32);
      new DataView(id.buffer).setUint32(0, dataIds);
      return id;
    },
    validatorStake: (id) => validators.get(id) ?? null,
    validatorTotalStake: () => [...validators.values()].reduce((a, b) => a + b, 0n),
  };
}

export function viewCall(
  run: RunFunctionCall,
  config: RuntimeConfig,
  state: StateReader,
  block: Block,
  validators: ReadonlyMap<string, bigint>,
  accountId: string,
  methodName: string,
  args: Uint8Array,
): ViewCallResult {
  const account = state.getAccount(accountId);
  if (!account) return { kind: "noAccount" };
  const code = state.getCode(accountId);
  if (!code) return { kind: "noCode" };
  const maxGasBurnt = BigInt(config.wasm_config.limit_config.max_gas_burnt);
  const outcome: VMOutcome = run({
    code,
    codeHash: account.codeHash,
    methodName,
    ext: readOnlyExternal(state, accountId, validators),
    context: {
      currentAccountId: accountId,
      signerAccountId: accountId,
      signerAccountPk: new Uint8Array(33),
      predecessorAccountId: accountId,
      input: args,
      promiseResults: [],
      blockHeight: block.height,
      blockTimestamp: block.timestamp,
      epochHeight: block.epochHeight,
      accountBalance: account.amount,
      accountLockedBalance: account.locked,
      storageUsage: account.storageUsage,
      attachedDeposit: 0n,
      prepaidGas: 0n,
      randomSeed: block.randomValue,
      view: { maxGasBurnt },
      outputDataReceivers: [],
    },
  });
  if (outcome.aborted) {
    return {
      kind: "failed",
      message: `wasm execution failed with error: FunctionCallError(${outcome.aborted.debug})`,
    };
  }
  const result = outcome.returnData.kind === "value" ? outcome.returnData.data : new Uint8Array(0);
  return { kind: "ok", result, logs: outcome.logs };
}
