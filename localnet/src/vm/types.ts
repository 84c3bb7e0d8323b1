/**
 * The boundary between the chain (transactions, receipts, blocks) and the VM (one function call
 * executed in wasm), modelled on nearcore's near-vm-runner: VMContext in, VMOutcome out, and an
 * External for the state the call reads and writes. The VM never sees the chain; the chain never
 * sees wasm.
 */

/** Result of a receipt that a callback depends on (nearcore's PromiseResult). */
export type PromiseResult =
  | { kind: "successful"; data: Uint8Array }
  | { kind: "failed" }
  | { kind: "notReady" };

export interface VMContext {
  currentAccountId: string;
  signerAccountId: string;
  /** Borsh-serialized PublicKey of the signer: 1 byte key type (0 = ed25519) + 32 bytes. */
  signerAccountPk: Uint8Array;
  predecessorAccountId: string;
  input: Uint8Array;
  promiseResults: PromiseResult[];
  blockHeight: bigint;
  /** Nanoseconds. */
  blockTimestamp: bigint;
  epochHeight: bigint;
  /** Balance of the current account after the attached deposit was added (yocto). */
  accountBalance: bigint;
  accountLockedBalance: bigint;
  storageUsage: bigint;
  attachedDeposit: bigint;
  prepaidGas: bigint;
  /** 32 bytes. */
  randomSeed: Uint8Array;
  /** Set for view calls: state-changing host functions fail with ProhibitedInView. */
  view: { maxGasBurnt: bigint } | null;
  /** Accounts that receive this receipt's output data (for callbacks). */
  outputDataReceivers: string[];
}

/** State access for one call. Writes must be revertible by the chain if the call fails. */
export interface External {
  storageGet(key: Uint8Array): Uint8Array | null;
  /** Returns the previous value, if any. */
  storageSet(key: Uint8Array, value: Uint8Array): Uint8Array | null;
  /** Returns the removed value, if any. */
  storageRemove(key: Uint8Array): Uint8Array | null;
  storageHasKey(key: Uint8Array): boolean;
  /**
   * The trie nodes an access to `key` touches (`readsValue`: the value node too, when present):
   * how many are new to the accounting cache and how many it already holds.
   */
  trieAccess(key: Uint8Array, readsValue: boolean): { touched: number; cached: number };
  /** A fresh, unique 32-byte data id (nearcore derives it from the receipt id and a counter). */
  generateDataId(): Uint8Array;
  validatorStake(accountId: string): bigint | null;
  validatorTotalStake(): bigint;
}

/** Access key permission as it appears in an AddKey action. */
export type AccessKeyPermission =
  | { kind: "fullAccess" }
  | { kind: "functionCall"; allowance: bigint | null; receiverId: string; methodNames: string[] };

/** Public key as NEAR encodes it: key type (0 = ed25519, 1 = secp256k1) and raw bytes. */
export interface PublicKey {
  keyType: 0 | 1;
  data: Uint8Array;
}

/** Actions a contract can put into a receipt it creates (promise_batch_action_*). */
export type Action =
  | { kind: "createAccount" }
  | { kind: "deployContract"; code: Uint8Array }
  | {
      kind: "functionCall";
      methodName: string;
      args: Uint8Array;
      gas: bigint;
      deposit: bigint;
      /** promise_batch_action_function_call_weight: share of unused gas, 0 when none. */
      gasWeight: bigint;
    }
  | { kind: "transfer"; deposit: bigint }
  | { kind: "stake"; stake: bigint; publicKey: PublicKey }
  | { kind: "addKey"; publicKey: PublicKey; nonce: bigint; permission: AccessKeyPermission }
  | { kind: "deleteKey"; publicKey: PublicKey }
  | { kind: "deleteAccount"; beneficiaryId: string };

/**
 * A receipt that the call asked to create. Indices refer to positions in VMOutcome.receipts.
 * `inputDataIds` are data this receipt waits for; `outputDataReceivers` get this receipt's result.
 */
export interface ReceiptDraft {
  receiverId: string;
  actions: Action[];
  inputDataIds: Uint8Array[];
  outputDataReceivers: { dataId: Uint8Array; receiverId: string }[];
}

export type ReturnData =
  | { kind: "value"; data: Uint8Array }
  /** promise_return: the call's result is the result of this receipt (index into receipts). */
  | { kind: "receiptIndex"; index: number }
  | { kind: "none" };

/** One line of a gas profile, as nearcore's RPC reports it in outcome.metadata.gas_profile. */
export interface GasProfileEntry {
  /** "ACTION_COST" or "WASM_HOST_COST". */
  costCategory: "ACTION_COST" | "WASM_HOST_COST";
  /** nearcore's names: "WASM_INSTRUCTION", "CONTRACT_LOADING_BASE", "STORAGE_WRITE_BASE", "FUNCTION_CALL", ... */
  cost: string;
  gasUsed: bigint;
}

/**
 * Why a call failed, in the two forms nearcore shows it:
 * - `view`: the FunctionCallError exactly as RPC serializes it inside ActionErrorKind, e.g.
 *   { ExecutionError: "Smart contract panicked: boom" } or { MethodResolveError: "MethodNotFound" };
 * - `debug`: Rust's Debug formatting of the VM error, which nearcore puts into view-call errors
 *   ("wasm execution failed with error: ..." is added by the RPC layer), e.g.
 *   'HostError(GuestPanic { panic_msg: "boom" })'.
 */
export interface FunctionCallError {
  view: Record<string, unknown>;
  debug: string;
}

export interface VMOutcome {
  /** Balance of the current account after the call (deposits attached to new receipts subtracted). */
  balance: bigint;
  storageUsage: bigint;
  returnData: ReturnData;
  burntGas: bigint;
  /** Gas burnt plus gas prepaid to the receipts the call created. */
  usedGas: bigint;
  logs: string[];
  profile: GasProfileEntry[];
  receipts: ReceiptDraft[];
  /** Set when the call failed; state writes must then be discarded by the chain. */
  aborted: FunctionCallError | null;
}

export interface FunctionCallInput {
  /** The account's deployed wasm as stored (unprepared); the VM prepares and caches it by hash. */
  code: Uint8Array;
  /** sha256 of `code`, the cache key. */
  codeHash: Uint8Array;
  methodName: string;
  context: VMContext;
  ext: External;
}

/** Runs one function call synchronously. Never throws for contract faults: they go in `aborted`. */
export type RunFunctionCall = (input: FunctionCallInput) => VMOutcome;
