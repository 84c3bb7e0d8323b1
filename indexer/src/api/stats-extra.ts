/** Statistics of the escrow tables: jobs by status, settled volume and fees per asset. */
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
  return {
    jobs: Object.fromEntries(byStatus.map((r) => [r.status, Number(r.n)])),
    volume_by_asset: volume,
  };
}
