/**
 * What the node needs from the runtime and the VM, injected so that the node can be driven by the
 * real runtime (localnet/src/runtime) or by a small stand-in in tests.
 */
import type { RuntimeConfig } from "../config/runtime-config.ts";
import type {
  ApplyContext,
  ApplyResult,
  Receipt,
  SignedTransaction,
  StateReader,
  StateStore,
} from "../runtime/types.ts";
import type { RunFunctionCall } from "../vm/types.ts";

export interface TxValidationContext {
  /** Height of the block the transaction would be included in. */
  blockHeight: bigint;
  gasPrice: bigint;
  config: RuntimeConfig;
  /** Whether a transaction's block_hash is a known block within transaction_validity_period. */
  isBlockHashValid: (blockHash: Uint8Array) => boolean;
}

export interface RuntimeApi {
  /** An empty state store; the node writes the genesis records into it. */
  createStateStore(): StateStore;
  /** Borsh SignedTransaction bytes to a transaction; throws a readable Error when malformed. */
  decodeSignedTransaction(bytes: Uint8Array): SignedTransaction;
  /** Throws an InvalidTxError (with `view`) when the transaction cannot be included. */
  validateTransaction(state: StateReader, tx: SignedTransaction, ctx: TxValidationContext): void;
  applyChunk(
    state: StateStore,
    ctx: ApplyContext,
    transactions: SignedTransaction[],
    receipts: Receipt[],
  ): ApplyResult;
  runFunctionCall: RunFunctionCall;
}
