/** Test helpers: WAT compilation, an in-memory External, contexts and a runner. */
import { createHash } from "node:crypto";
import initWabt from "wabt";
import { runtimeConfig } from "../../src/config/runtime-config.ts";
import { AccountTrie } from "../../src/runtime/trie-model.ts";
import { createRunner } from "../../src/vm/runner.ts";
import type { External, VMContext, VMOutcome } from "../../src/vm/types.ts";

const wabt = await initWabt();

export function wat(text: string): Uint8Array {
  const module = wabt.parseWat("test.wat", text, { sign_extension: true, mutable_globals: true });
  try {
    return module.toBinary({}).buffer;
  } finally {
    module.destroy();
  }
}

export class MemoryExternal implements External {
  readonly data = new Map<string, Uint8Array>();
  private nextDataId = 0;
  readonly stakes = new Map<string, bigint>();

  private k(key: Uint8Array): string {
    return Buffer.from(key).toString("hex");
  }
  storageGet(key: Uint8Array): Uint8Array | null {
    return this.data.get(this.k(key)) ?? null;
  }
  storageSet(key: Uint8Array, value: Uint8Array): Uint8Array | null {
    const old = this.storageGet(key);
    this.data.set(this.k(key), value.slice());
    this.trie?.added(key);
    return old;
  }
  storageRemove(key: Uint8Array): Uint8Array | null {
    const old = this.storageGet(key);
    this.data.delete(this.k(key));
    this.trie?.removed(key);
    return old;
  }
  storageHasKey(key: Uint8Array): boolean {
    return this.data.has(this.k(key));
  }
  /** The trie model of the current call; `run` starts each call in a chunk of its own. */
  private trie: AccountTrie | null = null;
  startCall(): void {
    this.trie = null;
  }
  trieAccess(key: Uint8Array, readsValue: boolean): { touched: number; cached: number } {
    this.trie ??= new AccountTrie("contract.test.near", new Set(), () =>
      [...this.data.keys()].map((hex) => Buffer.from(hex, "hex").toString("latin1")),
    );
    return this.trie.access(key, readsValue);
  }
  generateDataId(): Uint8Array {
    const id = new Uint8Array(32);
    id[0] = ++this.nextDataId;
    return id;
  }
  validatorStake(accountId: string): bigint | null {
    return this.stakes.get(accountId) ?? null;
  }
  validatorTotalStake(): bigint {
    let total = 0n;
    for (const s of this.stakes.values()) total += s;
    return total;
  }
}

export const TGAS = 1_000_000_000_000n;

export function context(overrides: Partial<VMContext> = {}): VMContext {
  return {
    currentAccountId: "contract.test.near",
    signerAccountId: "alice.test.near",
    signerAccountPk: new Uint8Array(33),
    predecessorAccountId: "alice.test.near",
    input: new Uint8Array(0),
    promiseResults: [],
    blockHeight: 100n,
    blockTimestamp: 1_700_000_000_000_000_000n,
    epochHeight: 1n,
    accountBalance: 10n ** 25n,
    accountLockedBalance: 0n,
    storageUsage: 1000n,
    attachedDeposit: 0n,
    prepaidGas: 300n * TGAS,
    randomSeed: new Uint8Array(32).fill(7),
    view: null,
    outputDataReceivers: [],
    ...overrides,
  };
}

export const runner = createRunner(runtimeConfig);
export const config = runtimeConfig;
export const OP_COST = BigInt(runtimeConfig.wasm_config.regular_op_cost);
export const ext_costs = runtimeConfig.wasm_config.ext_costs;

export function run(
  code: Uint8Array,
  methodName: string,
  ctx: Partial<VMContext> = {},
  ext: External = new MemoryExternal(),
): VMOutcome {
  const codeHash = createHash("sha256").update(code).digest();
  if (ext instanceof MemoryExternal) ext.startCall();
  return runner({ code, codeHash, methodName, context: context(ctx), ext });
}

/** Gas of contract loading for a module of `len` bytes. */
export function loadingGas(len: number): bigint {
  return (
    BigInt(ext_costs.contract_loading_base) + BigInt(ext_costs.contract_loading_bytes) * BigInt(len)
  );
}

export function profileOf(outcome: VMOutcome): Record<string, bigint> {
  return Object.fromEntries(outcome.profile.map((e) => [e.cost, e.gasUsed]));
}
