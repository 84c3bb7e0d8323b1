/** The indexer's cursor: the last height whose writes are committed, and what it indexed. */
import { type Kysely, sql, type Transaction } from "kysely";
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

export async function readCursor(db: Kysely<Database>): Promise<Cursor | null> {
  const row = await db
    .selectFrom("indexer_cursor")
    .selectAll()
    .where("id", "=", 1)
    .executeTakeFirst();
  if (row === undefined) {
    return null;
  }
  return {
    network: row.network,
    contracts: row.contracts as Contracts,
    height: Number(row.height),
    blockHash: row.block_hash,
    blockTimestampNs: row.block_timestamp,
  };
}

export async function writeCursor(tx: Transaction<Database>, cursor: Cursor): Promise<void> {
  const row = {
    id: 1,
    network: cursor.network,
    contracts: JSON.stringify(cursor.contracts),
    height: cursor.height,
    block_hash: cursor.blockHash,
    block_timestamp: cursor.blockTimestampNs,
  };
  await tx
    .insertInto("indexer_cursor")
    .values(row)
    .onConflict((oc) => oc.column("id").doUpdateSet({ ...row, updated_at: sql<Date>`now()` }))
    .execute();
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
