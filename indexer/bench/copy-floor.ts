/**
 * The floor for catch-up: PostgreSQL's own COPY of the rows an indexed database ended with into
 * the same, freshly migrated tables (same indexes, constraints and domains), in one transaction.
 * No indexer can write those rows faster through the same server; the catch-up time is reported
 * as a multiple of this.
 */
import type pg from "pg";
import { WRITE_ORDER } from "../src/apply/write.ts";
import { copyIn, copyOut } from "../src/db/copy.ts";
import { inTransaction } from "../src/db/database.ts";

/** Tables in load order (parents first), the cursor last. */
const TABLES = ["events", ...WRITE_ORDER, "indexer_cursor"];

export interface FloorResult {
  seconds: number;
  rows: number;
  bytes: number;
}

export async function copyFloor(source: pg.Pool, target: pg.Pool): Promise<FloorResult> {
  const data = new Map<string, Buffer>();
  const reader = await source.connect();
  try {
    for (const table of TABLES) data.set(table, await copyOut(reader, table));
  } finally {
    reader.release();
  }
  let rows = 0;
  const started = performance.now();
  await inTransaction(target, async (client) => {
    for (const table of TABLES) rows += await copyIn(client, table, data.get(table) ?? "");
  });
  const seconds = (performance.now() - started) / 1000;
  const bytes = [...data.values()].reduce((sum, b) => sum + b.length, 0);
  return { seconds, rows, bytes };
}
