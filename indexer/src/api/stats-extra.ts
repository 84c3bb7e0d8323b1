/**
 * Statistics of the escrow and governance tables: jobs by status, settled volume and fees per
 * asset; sessions by status, the budget escrowed in sessions not closed yet and the sessions'
 * settled volume per asset; proposals by stage, token holders.
 */
import { type Kysely, sql } from "kysely";
import type { Database } from "../db/schema.ts";

export async function extraStats(db: Kysely<Database>): Promise<Record<string, unknown>> {
  const byStatus = await db
    .selectFrom("jobs")
    .select(["status", db.fn.countAll<string>().as("n")])
    .groupBy("status")
    .execute();
  const volume = await db
    .selectFrom("jobs")
    .select([
      "asset",
      sql<string>`coalesce(sum(provider_payout), 0)::text`.as("paid_to_providers"),
      sql<string>`coalesce(sum(fee), 0)::text`.as("fees"),
      sql<string>`coalesce(sum(client_refund), 0)::text`.as("refunded"),
    ])
    .where("closed_at", "is not", null)
    .groupBy("asset")
    .orderBy("asset")
    .execute();
  const sessionsByStatus = await db
    .selectFrom("sessions")
    .select(["status", db.fn.countAll<string>().as("n")])
    .groupBy("status")
    .execute();
  // From open until settled or resolved, a session's whole budget is held by the escrow.
  const sessionsEscrowed = await db
    .selectFrom("sessions")
    .select([
      "asset",
      sql<number>`count(*)::int`.as("open_sessions"),
      sql<string>`sum(budget)::text`.as("budget"),
      sql<string>`sum(claimed)::text`.as("claimed"),
    ])
    .where("status", "in", ["open", "closing", "disputed"])
    .groupBy("asset")
    .orderBy("asset")
    .execute();
  const sessionVolume = await db
    .selectFrom("sessions")
    .select([
      "asset",
      sql<string>`coalesce(sum(provider_payout), 0)::text`.as("paid_to_providers"),
      sql<string>`coalesce(sum(fee), 0)::text`.as("fees"),
      sql<string>`coalesce(sum(client_refund), 0)::text`.as("refunded"),
    ])
    .where("closed_at", "is not", null)
    .groupBy("asset")
    .orderBy("asset")
    .execute();
  const proposals = await db
    .selectFrom("proposals")
    .select(["stage", db.fn.countAll<string>().as("n")])
    .groupBy("stage")
    .execute();
  const holders = await db
    .selectFrom("token_holders")
    .select([
      db.fn.countAll<string>().as("n"),
      sql<string>`coalesce(sum(balance), 0)::text`.as("held"),
    ])
    .executeTakeFirstOrThrow();
  return {
    proposals_by_stage: Object.fromEntries(proposals.map((r) => [r.stage, Number(r.n)])),
    token_holders: { count: Number(holders.n), total_held: holders.held },
    jobs: Object.fromEntries(byStatus.map((r) => [r.status, Number(r.n)])),
    volume_by_asset: volume,
    sessions: Object.fromEntries(sessionsByStatus.map((r) => [r.status, Number(r.n)])),
    session_escrow_by_asset: sessionsEscrowed,
    session_volume_by_asset: sessionVolume,
  };
}
