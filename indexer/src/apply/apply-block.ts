/**
 * Writes one block's events into an open transaction: each event's raw row, then its effect on the
 * tables. The caller commits it together with the cursor.
 */
import { sql, type Transaction } from "kysely";
import type { Database } from "../db/schema.ts";
import type { ContractRole } from "../decode/contracts.ts";
import type { DecodedEvent } from "../decode/decode-block.ts";
import type { Block } from "../source/streamer-message.ts";
import { type ApplyContext, ConsistencyError } from "./context.ts";
import { escrowHandlers } from "./escrow.ts";
import { governanceHandlers, nep141Handlers } from "./governance.ts";
import { registryHandlers } from "./registry.ts";

type AnyHandler = (ctx: ApplyContext, data: never) => Promise<void>;

const HANDLERS: Record<ContractRole, Record<string, AnyHandler>> = {
  registry: registryHandlers,
  escrow: escrowHandlers,
  // The gpumarket and nep141 event names do not overlap.
  governance: { ...governanceHandlers, ...nep141Handlers },
};

export interface BlockResult {
  applied: number;
  /** Events recorded but not applied (unknown, invalid, or inconsistent with the index). */
  problems: DecodedEvent[];
}

/** Rows per INSERT (16 parameters each, well under PostgreSQL's 65,535). */
const INSERT_CHUNK = 1000;

function eventRow(block: Block, event: DecodedEvent) {
  return {
    receipt_id: event.receiptId,
    log_index: event.logIndex,
    block_height: block.height,
    block_timestamp: block.timestampNs,
    block_hash: block.hash,
    shard_id: event.shardId,
    seq: event.seq,
    tx_hash: event.txHash,
    contract: event.contract,
    predecessor: event.predecessor,
    standard: event.standard,
    version: event.version,
    event: event.event,
    data: event.data === null ? null : JSON.stringify(event.data),
    status: event.status,
    error: event.error,
  };
}

export async function applyBlock(
  tx: Transaction<Database>,
  block: Block,
  events: DecodedEvent[],
): Promise<BlockResult> {
  const result: BlockResult = { applied: 0, problems: [] };
  // All raw rows first, in one statement per chunk (handlers may reference them, e.g. verdicts).
  for (let i = 0; i < events.length; i += INSERT_CHUNK) {
    await tx
      .insertInto("events")
      .values(events.slice(i, i + INSERT_CHUNK).map((event) => eventRow(block, event)))
      .execute();
  }
  for (const event of events) {
    if (event.status !== "applied") {
      result.problems.push(event);
      continue;
    }
    const handler = HANDLERS[event.role][event.event ?? ""];
    if (handler === undefined) {
      throw new Error(`no handler for ${event.role} event ${event.event}, which has a schema`);
    }
    const ctx: ApplyContext = {
      tx,
      contract: event.contract,
      height: block.height,
      timestampNs: block.timestampNs,
      receiptId: event.receiptId,
      logIndex: event.logIndex,
    };
    // Handlers check before writing; an event with several items (nep141 batches) also gets a
    // savepoint, so that an inconsistency in a later item undoes the earlier ones.
    const several = event.items.length > 1;
    try {
      if (several) await sql`SAVEPOINT event_items`.execute(tx);
      for (const item of event.items) {
        await handler(ctx, item as never);
      }
      if (several) await sql`RELEASE SAVEPOINT event_items`.execute(tx);
      result.applied++;
    } catch (error) {
      if (!(error instanceof ConsistencyError)) {
        throw error;
      }
      if (several) await sql`ROLLBACK TO SAVEPOINT event_items`.execute(tx);
      await tx
        .updateTable("events")
        .set({ status: "invalid", error: error.message })
        .where("receipt_id", "=", event.receiptId)
        .where("log_index", "=", event.logIndex)
        .execute();
      result.problems.push({ ...event, status: "invalid", error: error.message });
    }
  }
  return result;
}
