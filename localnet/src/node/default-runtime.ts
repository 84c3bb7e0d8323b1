/** The real runtime (localnet/src/runtime) behind the node's RuntimeApi, with a given VM. */
import { applyChunk } from "../runtime/apply.ts";
import { MemoryStateStore } from "../runtime/state-store.ts";
import { decodeSignedTransaction } from "../runtime/transaction-codec.ts";
import { validateTransaction } from "../runtime/verifier.ts";
import type { RunFunctionCall } from "../vm/types.ts";
import type { RuntimeApi } from "./runtime-api.ts";

export function createRuntime(vm: RunFunctionCall): RuntimeApi {
  return {
    createStateStore: () => new MemoryStateStore(),
    decodeSignedTransaction,
    validateTransaction(state, tx, ctx) {
      validateTransaction(state, tx, ctx);
    },
    applyChunk(state, ctx, transactions, receipts) {
      if (!(state instanceof MemoryStateStore)) {
        throw new Error("the runtime applies chunks to the MemoryStateStore it created");
      }
      // Signatures were verified when the transactions entered the pool.
      return applyChunk(state, ctx, transactions, receipts, { vm, verifySignatures: false });
    },
    runFunctionCall: vm,
  };
}
