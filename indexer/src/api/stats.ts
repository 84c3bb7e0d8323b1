/** Market statistics from the indexed tables. */
import { type Kysely, sql } from "kysely";
import type { Database } from "../db/schema.ts";
import { asOf } from "./as-of.ts";
import type { Query } from "./params.ts";
import { extraStats } from "./stats-extra.ts";

export async function marketStats(db: Kysely<Database>, query: Query) {
  query.done();
  const at = await asOf(db);
  const providers = await db
    .selectFrom("providers")
    .select(["status", db.fn.countAll<string>().as("n")])
    .groupBy("status")
    .execute();
  const machines = await db
    .selectFrom("machines")
    .select(["status", db.fn.countAll<string>().as("n")])
    .groupBy("status")
    .execute();
  const gpus = await db
    .selectFrom("machine_gpus")
    .select([
      "model",
      sql<string>`count(DISTINCT machine_id)`.as("machines"),
      sql<string>`sum(count)`.as("gpus"),
    ])
    .groupBy("model")
    .orderBy("model")
    .execute();
  const events = await db
    .selectFrom("events")
    .select(["status", db.fn.countAll<string>().as("n")])
    .groupBy("status")
    .execute();
  const byKey = (rows: { n: string }[], key: (r: never) => string) =>
    Object.fromEntries(rows.map((r) => [key(r as never), Number(r.n)]));
  return {
    data: {
      providers: byKey(providers, (r: { status: string }) => r.status),
      machines: byKey(machines, (r: { status: string }) => r.status),
      gpus_by_model: gpus.map((g) => ({
        model: g.model,
        machines: Number(g.machines),
        gpus: Number(g.gpus),
      })),
      events: byKey(events, (r: { status: string }) => r.status),
      ...(await extraStats(db)),
    },
    as_of: at,
  };
}
