/** The indexed height answers are computed at (the cursor), returned with every answer. */
import type { Kysely } from "kysely";
import type { Database } from "../db/schema.ts";

export interface AsOf {
  /** Last indexed height; null before the first block. */
  block_height: number | null;
  /** Its block timestamp in ns (u64 decimal string); eligibility and expiry are judged at it. */
  block_timestamp: string | null;
}

export async function asOf(db: Kysely<Database>): Promise<AsOf> {
  const row = await db
    .selectFrom("indexer_cursor")
    .select(["height", "block_timestamp"])
    .where("id", "=", 1)
    .executeTakeFirst();
  return row === undefined
    ? { block_height: null, block_timestamp: null }
    : { block_height: Number(row.height), block_timestamp: row.block_timestamp };
}
