/**
 * The runtime as the node uses it: a state store factory, transaction decoding and validation,
 * and chunk application with the given VM.
 */
import type { RuntimeApi } from "../node/runtime-api.ts";
import type { RunFunctionCall } from "../vm/types.ts";
import { applyChunk } from "./apply.ts";
import { MemoryStateStore } from "./state-store.ts";
import { decodeSignedTransaction } from "./transaction-codec.ts";
import { validateTransaction } from "./verifier.ts";

export function createRuntime(
  vm: RunFunctionCall,
  options: { maxVersions?: number } = {},
): RuntimeApi {
  return {
    createStateStore: () => new MemoryStateStore(options),
    decodeSignedTransaction,
    validateTransaction: (state, tx, ctx) => {
      validateTransaction(state, tx, ctx);
    },
    applyChunk: (state, ctx, transactions, receipts) => {
      if (!(state instanceof MemoryStateStore)) {
        throw new Error("applyChunk needs the runtime's own state store (createStateStore())");
      }
      return applyChunk(state, ctx, transactions, receipts, { vm });
    },
    runFunctionCall: vm,
  };
}

export { applyChunk } from "./apply.ts";
export { totalSupply } from "./balance-checker.ts";
export { MemoryStateStore } from "./state-store.ts";
export {
  decodeSignedTransaction,
  decodeSignedTransactionBase64,
  encodeSignedTransaction,
} from "./transaction-codec.ts";
export { validateTransaction } from "./verifier.ts";
