/**
 * The boundary between the runtime (NEAR's state transition: transactions and receipts applied to
 * state, as nearcore's runtime crate does) and the node (blocks, chain store, JSON-RPC, block
 * stream). The runtime owns the state store and `applyChunk`; the node owns everything around it.
 * Amounts and gas are bigint; hashes are 32-byte Uint8Array (base58 only in views).
 */
import type { RuntimeConfig } from "../config/runtime-config.ts";
import type { GasProfileEntry, PublicKey, Action as VMAction } from "../vm/types.ts";

export type { AccessKeyPermission, PublicKey } from "../vm/types.ts";

export type CryptoHash = Uint8Array;

export interface Signature {
  keyType: 0 | 1;
  data: Uint8Array;
}

/** NEP-366 meta transaction: an action list signed by one account and relayed by another. */
export interface DelegateAction {
  senderId: string;
  receiverId: string;
  actions: VMAction[];
  nonce: bigint;
  maxBlockHeight: bigint;
  publicKey: PublicKey;
}

/** Every action a transaction or receipt can carry: the VM's plus the ones only transactions make. */
export type Action =
  | VMAction
  | { kind: "delegate"; delegateAction: DelegateAction; signature: Signature };

export interface Transaction {
  signerId: string;
  publicKey: PublicKey;
  nonce: bigint;
  receiverId: string;
  blockHash: CryptoHash;
  actions: Action[];
}

export interface SignedTransaction {
  transaction: Transaction;
  signature: Signature;
  /** sha256 of the borsh-serialized Transaction. */
  hash: CryptoHash;
  /** Length of the borsh-serialized SignedTransaction (limit: max_transaction_size). */
  size: number;
}

export interface AccessKey {
  nonce: bigint;
  permission:
    | { kind: "fullAccess" }
    | { kind: "functionCall"; allowance: bigint | null; receiverId: string; methodNames: string[] };
}

export interface Account {
  amount: bigint;
  locked: bigint;
  /** sha256 of the deployed code, or 32 zero bytes when none. */
  codeHash: CryptoHash;
  storageUsage: bigint;
}

export interface DataReceiver {
  dataId: CryptoHash;
  receiverId: string;
}

export type ReceiptBody =
  | {
      kind: "action";
      signerId: string;
      signerPublicKey: PublicKey;
      gasPrice: bigint;
      outputDataReceivers: DataReceiver[];
      inputDataIds: CryptoHash[];
      actions: Action[];
    }
  | { kind: "data"; dataId: CryptoHash; data: Uint8Array | null };

export interface Receipt {
  predecessorId: string;
  receiverId: string;
  receiptId: CryptoHash;
  body: ReceiptBody;
}

export type ExecutionStatus =
  | { kind: "successValue"; value: Uint8Array }
  | { kind: "successReceiptId"; receiptId: CryptoHash }
  /** `error` is TxExecutionError exactly as nearcore's RPC serializes it, e.g. { ActionError: {...} }. */
  | { kind: "failure"; error: Record<string, unknown> };

export interface ExecutionOutcome {
  /** Transaction hash or receipt id. */
  id: CryptoHash;
  executorId: string;
  logs: string[];
  receiptIds: CryptoHash[];
  gasBurnt: bigint;
  tokensBurnt: bigint;
  status: ExecutionStatus;
  profile: GasProfileEntry[];
}

/** What the node tells the runtime about the block being applied (nearcore's ApplyState). */
export interface ApplyContext {
  blockHeight: bigint;
  blockHash: CryptoHash;
  prevBlockHash: CryptoHash;
  /** Nanoseconds. */
  blockTimestamp: bigint;
  epochHeight: bigint;
  gasPrice: bigint;
  gasLimit: bigint;
  randomSeed: CryptoHash;
  /** The epoch's validators and their stakes (validator_stake, validator_total_stake). */
  validators: ReadonlyMap<string, bigint>;
  config: RuntimeConfig;
}

/**
 * One entry of nearcore's StateChangeWithCauseView exactly as EXPERIMENTAL_changes and the block
 * stream serialize it: { cause: { type: "transaction_processing", tx_hash }, type: "account_update",
 * change: { account_id, amount, ... } }.
 */
export type StateChangeView = Record<string, unknown>;

export interface ApplyResult {
  /** Outcomes in execution order: transactions first, then receipts. */
  transactionOutcomes: ExecutionOutcome[];
  receiptOutcomes: { receipt: Receipt; outcome: ExecutionOutcome }[];
  /** Receipts to be applied in a later block (local receipts are applied in the same block). */
  outgoingReceipts: Receipt[];
  stateChanges: StateChangeView[];
  /** Tokens burnt in this chunk (for total supply). */
  tokensBurnt: bigint;
  gasBurnt: bigint;
  /** Transactions dropped at apply time because they were no longer valid (no outcome, no receipt). */
  invalidTransactions: { hash: CryptoHash; error: InvalidTxError }[];
}

/**
 * Validates a transaction against the current state before it enters the pool, as nearcore's RPC
 * does; throws an InvalidTxError (view JSON under `error`) when it cannot be included.
 */
export interface InvalidTxError extends Error {
  /**
   * nearcore's InvalidTxError as RPC serializes it, e.g. { InvalidNonce: { tx_nonce, ak_nonce } };
   * unit variants serialize as a bare string: "InvalidSignature", "Expired", "CostOverflow".
   */
  view: Record<string, unknown> | string;
}

/**
 * nearcore's StateRecord exactly as genesis files and sandbox_patch_state carry it, e.g.
 * { Account: { account_id, account: { amount, locked, code_hash, storage_usage } } },
 * { AccessKey: { account_id, public_key, access_key } }, { Contract: { account_id, code } } (base64),
 * { Data: { account_id, data_key, value } } (base64).
 */
export type StateRecordView = Record<string, unknown>;

/** Read access to the state as of one block. */
export interface StateReader {
  getAccount(accountId: string): Account | null;
  getAccessKey(accountId: string, publicKey: PublicKey): AccessKey | null;
  listAccessKeys(accountId: string): { publicKey: PublicKey; accessKey: AccessKey }[];
  getCode(accountId: string): Uint8Array | null;
  getData(accountId: string, key: Uint8Array): Uint8Array | null;
  /** Contract data under a key prefix, in key order. */
  listData(accountId: string, prefix: Uint8Array): { key: Uint8Array; value: Uint8Array }[];
}

/**
 * The state, owned by the runtime. The node commits one version per block and reads older
 * versions for queries that name a block (recent blocks at least; older ones may be unavailable).
 */
export interface StateStore extends StateReader {
  /** Read-only view of the state right after block `height` was applied; null when not kept. */
  at(height: bigint): StateReader | null;
  /** Seals the current state as the state after block `height`. */
  commitBlock(height: bigint): void;
  /** Writes records as-is (genesis, sandbox_patch_state), keeping storage_usage consistent. */
  applyRecords(records: StateRecordView[]): void;
  /** Every record of the current state (persistence, EXPERIMENTAL_genesis_config-like dumps). */
  records(): StateRecordView[];
}
