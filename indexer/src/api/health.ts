/**
 * /health (liveness and state, always 200 while the process serves) and /ready (200 only when the
 * database answers and the index is within `maxLagBlocks` of the chain's final head, else 503).
 */
import type { Kysely } from "kysely";
import type { Database } from "../db/schema.ts";
import type { IndexerStatus } from "../indexer.ts";
import { asOf } from "./as-of.ts";

export interface HealthOptions {
  /**
   * The running indexer's status; absent when this process only serves the API (the lag then
   * comes from the final height the indexer stored with the cursor).
   */
  status?: () => IndexerStatus;
  maxLagBlocks: number;
}

export interface HealthReport {
  ready: boolean;
  reason: string | null;
  database: "ok" | "unreachable";
  indexed_height: number | null;
  final_height: number | null;
  lag_blocks: number | null;
  /** Wall clock minus the indexed block's timestamp (grows on an idle chain that makes no blocks). */
  lag_seconds: number | null;
  events_not_applied: number | null;
  last_error: string | null;
  last_error_at: string | null;
  /** The API process that answered (one of several with --api-workers). */
  process_id: number;
}

export async function healthReport(
  db: Kysely<Database>,
  options: HealthOptions,
): Promise<HealthReport> {
  const status = options.status?.() ?? null;
  let database: "ok" | "unreachable" = "ok";
  let height: number | null = null;
  let timestamp: string | null = null;
  let notApplied: number | null = null;
  let storedFinal: number | null = null;
  try {
    const at = await asOf(db);
    height = at.block_height;
    timestamp = at.block_timestamp;
    const cursor = await db
      .selectFrom("indexer_cursor")
      .select("final_height")
      .where("id", "=", 1)
      .executeTakeFirst();
    storedFinal = cursor?.final_height == null ? null : Number(cursor.final_height);
    const row = await db
      .selectFrom("events")
      .select(db.fn.countAll<string>().as("n"))
      .where("status", "<>", "applied")
      .executeTakeFirstOrThrow();
    notApplied = Number(row.n);
  } catch {
    database = "unreachable";
    height = status?.height ?? null;
    timestamp = status?.blockTimestampNs ?? null;
  }
  const final = status !== null && status.finalHeight >= 0 ? status.finalHeight : storedFinal;
  const lagBlocks = final !== null && height !== null ? Math.max(0, final - height) : null;
  const lagSeconds =
    timestamp !== null && timestamp !== "0"
      ? Math.max(0, (Date.now() * 1e6 - Number(timestamp)) / 1e9)
      : null;
  let reason: string | null = null;
  if (database !== "ok") reason = "the database does not answer";
  else if (height === null) reason = "nothing indexed yet";
  else if (lagBlocks !== null && lagBlocks > options.maxLagBlocks)
    reason = `${lagBlocks} blocks behind the final head (more than ${options.maxLagBlocks})`;
  return {
    ready: reason === null,
    reason,
    database,
    indexed_height: height,
    final_height: final,
    lag_blocks: lagBlocks,
    lag_seconds: lagSeconds === null ? null : Math.round(lagSeconds * 1000) / 1000,
    events_not_applied: notApplied,
    last_error: status?.lastError ?? null,
    last_error_at: status?.lastErrorAt ?? null,
    process_id: process.pid,
  };
}
