/**
 * Re-indexing from a height H, in one transaction: the tables are emptied and rebuilt from the
 * raw events stored below H (decoded again with the current schemas, so events that were unknown
 * when first seen are applied if their schema is known now), events from H on are deleted, and the
 * cursor is set to H - 1; the next run fetches blocks from H again.
 */
import type pg from "pg";
import { applyBatch, type BlockEvents, batchCatalog } from "./apply/apply-batch.ts";
import { readCursorOn, writeCursor } from "./db/cursor.ts";
import { inTransaction } from "./db/database.ts";
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
  pool: pg.Pool,
  height: number,
  contracts: Contracts,
): Promise<ReindexResult> {
  return inTransaction(pool, (client) => replay(client, height, contracts));
}

async function replay(
  client: pg.ClientBase,
  height: number,
  contracts: Contracts,
): Promise<ReindexResult> {
  const cursor = await readCursorOn(client);
  if (cursor === null) {
    throw new Error("nothing to re-index: the database has no cursor (start with --start-height)");
  }
  if (height > cursor.height + 1) {
    throw new Error(
      `cannot re-index from ${height}: the database is only indexed up to ${cursor.height}`,
    );
  }
  const catalog = await batchCatalog(client);
  await client.query(
    "CREATE TEMP TABLE replay ON COMMIT DROP AS SELECT * FROM events WHERE block_height < $1",
    [height],
  );
  const deleted = await client.query<{ n: string }>(
    "SELECT count(*) AS n FROM events WHERE block_height >= $1",
    [height],
  );
  await client.query(`TRUNCATE ${[...DERIVED_TABLES, "events"].join(", ")} CASCADE`);
  let replayed = 0;
  let last: { height: string; seq: number } = { height: "-1", seq: -1 };
  let lastTimestampNs = "0";
  for (;;) {
    const rows = (
      await client.query<StoredEvent>(
        `SELECT * FROM replay WHERE (block_height, seq) > ($1::bigint, $2::int)
         ORDER BY block_height, seq LIMIT ${PAGE}`,
        [last.height, last.seq],
      )
    ).rows;
    if (rows.length === 0) break;
    // Whole blocks per batch: a page's last block may continue on the next page, so it waits.
    const tail = rows[rows.length - 1] as StoredEvent;
    const complete =
      rows.length < PAGE ? rows : rows.filter((row) => row.block_height !== tail.block_height);
    const page = complete.length > 0 ? complete : rows;
    const blocks: BlockEvents[] = [];
    for (const row of page) {
      let block = blocks[blocks.length - 1];
      if (block === undefined || String(block.height) !== row.block_height) {
        block = {
          height: Number(row.block_height),
          hash: row.block_hash,
          timestampNs: row.block_timestamp,
          events: [],
        };
        blocks.push(block);
      }
      block.events.push(redecode(row, contracts));
    }
    await applyBatch(client, catalog, contracts, blocks);
    replayed += page.length;
    const end = page[page.length - 1] as StoredEvent;
    last = { height: end.block_height, seq: end.seq };
    lastTimestampNs = end.block_timestamp;
  }
  // Re-indexing from the next height keeps the cursor. Otherwise the hash of block H - 1 is not
  // stored when it had no events; the chain check resumes from the next block fetched.
  if (height !== cursor.height + 1) {
    await writeCursor(client, {
      ...cursor,
      height: height - 1,
      blockHash: "",
      blockTimestampNs: lastTimestampNs,
    });
  }
  return {
    replayedEvents: replayed,
    deletedEvents: Number(deleted.rows[0]?.n ?? 0),
    cursorHeight: height - 1,
  };
}
