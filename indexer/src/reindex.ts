/**
 * Re-indexing from a height H, in one transaction: the tables are emptied and rebuilt from the
 * raw events stored below H (decoded again with the current schemas, so events that were unknown
 * when first seen are applied if their schema is known now), events from H on are deleted, and the
 * cursor is set to H - 1; the next run fetches blocks from H again.
 */
import { type Kysely, sql } from "kysely";
import { applyBlock } from "./apply/apply-block.ts";
import { readCursor, writeCursor } from "./db/cursor.ts";
import type { Database } from "./db/schema.ts";
import { DERIVED_TABLES } from "./db/tables.ts";
import { type Contracts, roleOf } from "./decode/contracts.ts";
import { type DecodedEvent, decodeEventJson } from "./decode/decode-block.ts";

const PAGE = 5000;

interface StoredEvent {
  receipt_id: string;
  log_index: number;
  block_height: string;
  block_timestamp: string;
  block_hash: string;
  shard_id: number;
  seq: number;
  tx_hash: string | null;
  contract: string;
  predecessor: string;
  standard: string | null;
  version: string | null;
  event: string | null;
  data: unknown;
  status: string;
  error: string | null;
}

function redecode(row: StoredEvent, contracts: Contracts): DecodedEvent {
  const role = roleOf(contracts, row.contract);
  if (role === null) {
    throw new Error(`stored event of ${row.contract}, which is not a configured contract`);
  }
  // A line that was not an event object stays invalid with its original error.
  const parsed =
    row.standard === null || row.version === null || row.event === null
      ? {
          standard: null,
          version: null,
          event: null,
          data: row.data,
          items: [],
          status: "invalid" as const,
          error: row.error,
        }
      : decodeEventJson(
          role,
          JSON.stringify({
            standard: row.standard,
            version: row.version,
            event: row.event,
            data: row.data,
          }),
        );
  return {
    receiptId: row.receipt_id,
    logIndex: row.log_index,
    shardId: row.shard_id,
    seq: row.seq,
    txHash: row.tx_hash,
    contract: row.contract,
    role,
    predecessor: row.predecessor,
    ...parsed,
  };
}

export interface ReindexResult {
  replayedEvents: number;
  deletedEvents: number;
  cursorHeight: number;
}

export async function reindexFrom(
  db: Kysely<Database>,
  height: number,
  contracts: Contracts,
): Promise<ReindexResult> {
  return db.transaction().execute(async (tx) => {
    const cursor = await readCursor(tx);
    if (cursor === null) {
      throw new Error(
        "nothing to re-index: the database has no cursor (start with --start-height)",
      );
    }
    if (height > cursor.height + 1) {
      throw new Error(
        `cannot re-index from ${height}: the database is only indexed up to ${cursor.height}`,
      );
    }
    await sql`CREATE TEMP TABLE replay ON COMMIT DROP AS
      SELECT * FROM events WHERE block_height < ${height}`.execute(tx);
    const deleted = await sql<{
      n: string;
    }>`SELECT count(*) AS n FROM events WHERE block_height >= ${height}`.execute(tx);
    await sql.raw(`TRUNCATE ${[...DERIVED_TABLES, "events"].join(", ")} CASCADE`).execute(tx);
    let replayed = 0;
    let last: { height: string; seq: number } | null = null;
    let lastBlock = { hash: "", timestampNs: "0" };
    for (;;) {
      const after: { height: string; seq: number } | null = last;
      const rows = (
        await sql<StoredEvent>`SELECT * FROM replay
          WHERE ${after === null ? sql`true` : sql`(block_height, seq) > (${after.height}::bigint, ${after.seq})`}
          ORDER BY block_height, seq LIMIT ${PAGE}`.execute(tx)
      ).rows;
      if (rows.length === 0) break;
      let group: StoredEvent[] = [];
      const flush = async (): Promise<void> => {
        const first = group[0];
        if (first === undefined) return;
        const block = {
          height: Number(first.block_height),
          hash: first.block_hash,
          prevHash: "",
          timestampNs: first.block_timestamp,
          shards: [],
        };
        await applyBlock(
          tx,
          block,
          group.map((row) => redecode(row, contracts)),
        );
        lastBlock = { hash: first.block_hash, timestampNs: first.block_timestamp };
        group = [];
      };
      for (const row of rows) {
        if (group[0] !== undefined && group[0].block_height !== row.block_height) await flush();
        group.push(row);
      }
      await flush();
      replayed += rows.length;
      const tail = rows[rows.length - 1] as StoredEvent;
      last = { height: tail.block_height, seq: tail.seq };
    }
    // Re-indexing from the next height keeps the cursor. Otherwise the hash of block H - 1 is not
    // stored when it had no events; the chain check resumes from the next block fetched.
    if (height !== cursor.height + 1) {
      await writeCursor(tx, {
        ...cursor,
        height: height - 1,
        blockHash: "",
        blockTimestampNs: lastBlock.timestampNs,
      });
    }
    return {
      replayedEvents: replayed,
      deletedEvents: Number(deleted.rows[0]?.n ?? 0),
      cursorHeight: height - 1,
    };
  });
}
