/**
 * NEAR Lake's StreamerMessage for one block (near-indexer-primitives): the block view and, for its
 * one shard, the chunk with each transaction and its outcome, every receipt executed with its
 * outcome, and the state changes. As neardata does, each receipt outcome names its transaction.
 */
import type { Block } from "../node/chain.ts";
import { bytesEqual, toBase58 } from "../node/encoding.ts";
import {
  chunkHeaderView,
  type JsonObject,
  outcomeView,
  receiptView,
  transactionView,
} from "../node/views.ts";
import { blockView, type RpcContext, VALIDATOR_ACCOUNT_ID } from "../rpc/context.ts";

export function streamerMessage(ctx: RpcContext, block: Block): JsonObject {
  const chain = ctx.node.chain;
  const transactions = block.chunk.transactions.map((tx) => {
    const outcome = block.transactionOutcomes.find((o) => bytesEqual(o.id, tx.hash));
    return {
      transaction: transactionView(tx),
      outcome: {
        execution_outcome: outcome ? outcomeView(outcome, block, true) : null,
        receipt: null,
      },
    };
  });
  const receiptExecutionOutcomes = block.receiptOutcomes.map(({ receipt, outcome }) => {
    const origin = chain.originOf(receipt.receiptId);
    return {
      execution_outcome: outcomeView(outcome, block, false),
      receipt: receiptView(receipt),
      tx_hash: origin ? toBase58(origin) : null,
    };
  });
  return {
    block: blockView(ctx, block),
    shards: [
      {
        shard_id: 0,
        chunk: {
          author: VALIDATOR_ACCOUNT_ID,
          header: chunkHeaderView(block),
          transactions,
          receipts: block.receiptOutcomes.map(({ receipt }) => receiptView(receipt)),
        },
        receipt_execution_outcomes: receiptExecutionOutcomes,
        state_changes: block.stateChanges,
      },
    ],
  };
}
