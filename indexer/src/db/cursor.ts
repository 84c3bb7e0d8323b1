/** The indexer's cursor: the last height whose writes are committed, and what it indexed. */
import type { Kysely } from "kysely";
import type pg from "pg";
import type { Contracts } from "../decode/contracts.ts";
import type { Database } from "./schema.ts";

export interface Cursor {
  network: string;
  contracts: Contracts;
  height: number;
  /** Hash and time of the last block at or below `height` (skipped heights keep the previous). */
  blockHash: string;
  blockTimestampNs: string;
}

interface CursorRow {
  network: string;
  contracts: unknown;
  height: string;
  block_hash: string;
  block_timestamp: string;
}

function fromRow(row: CursorRow): Cursor {
  return {
    network: row.network,
    contracts: row.contracts as Contracts,
    height: Number(row.height),
    blockHash: row.block_hash,
    blockTimestampNs: row.block_timestamp,
  };
}

export async function readCursor(db: Kysely<Database>): Promise<Cursor | null> {
  const row = await db
    .selectFrom("indexer_cursor")
    .selectAll()
    .where("id", "=", 1)
    .executeTakeFirst();
  return row === undefined ? null : fromRow(row);
}

/** The cursor on a connection of its own (inside the writer's transaction). */
export async function readCursorOn(client: pg.ClientBase): Promise<Cursor | null> {
  const result = await client.query<CursorRow>(
    "SELECT network, contracts, height, block_hash, block_timestamp FROM indexer_cursor WHERE id = 1",
  );
  const row = result.rows[0];
  return row === undefined ? null : fromRow(row);
}

/** The channel a commit notifies (payload: the new height); API processes listen on it. */
export const CURSOR_CHANNEL = "gpu_market_cursor";

/**
 * Writes the cursor (in the transaction that writes the blocks it covers) with the final height the
 * source reported, and notifies CURSOR_CHANNEL (delivered when the transaction commits).
 */
export async function writeCursor(
  client: pg.ClientBase,
  cursor: Cursor,
  finalHeight: number | null = null,
): Promise<void> {
  await client.query({
    name: "write_cursor",
    text: `WITH written AS (
        INSERT INTO indexer_cursor
          (id, network, contracts, height, block_hash, block_timestamp, final_height)
        VALUES (1, $1, $2, $3, $4, $5, $6)
        ON CONFLICT (id) DO UPDATE SET network = EXCLUDED.network, contracts = EXCLUDED.contracts,
          height = EXCLUDED.height, block_hash = EXCLUDED.block_hash,
          block_timestamp = EXCLUDED.block_timestamp, final_height = EXCLUDED.final_height,
          updated_at = now()
        RETURNING height)
      SELECT pg_notify('${CURSOR_CHANNEL}', height::text) FROM written`,
    values: [
      cursor.network,
      JSON.stringify(cursor.contracts),
      cursor.height,
      cursor.blockHash,
      cursor.blockTimestampNs,
      finalHeight,
    ],
  });
}

/** Why the database cannot continue under these settings, or null when it can. */
export function cursorMismatch(
  cursor: Cursor,
  network: string,
  contracts: Contracts,
): string | null {
  if (cursor.network !== network) {
    return `the database indexed network ${cursor.network}, not ${network}`;
  }
  for (const role of ["registry", "escrow", "governance"] as const) {
    if ((cursor.contracts[role] ?? null) !== contracts[role]) {
      return `the database indexed ${role} ${cursor.contracts[role] ?? "(none)"}, not ${contracts[role] ?? "(none)"}`;
    }
  }
  return null;
}
