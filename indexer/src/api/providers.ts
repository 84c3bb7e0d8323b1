/** Providers: a filtered, paginated list, and one provider with its machine ids. */
import type { Kysely } from "kysely";
import type { Database } from "../db/schema.ts";
import { asOf } from "./as-of.ts";
import { paginate, type Query, QueryError } from "./params.ts";

const REGION = /^[a-z0-9][a-z0-9-]*$/;

function providerQuery(db: Kysely<Database>) {
  return db
    .selectFrom("providers as p")
    .select([
      "p.account_id",
      "p.name",
      "p.endpoint",
      "p.region",
      "p.bond",
      "p.status",
      "p.created_at",
      "p.updated_at",
      "p.unbonding_ends_at",
      "p.slashed_total",
    ])
    .select((eb) =>
      eb
        .selectFrom("machines as m")
        .select(eb.fn.countAll<string>().as("n"))
        .whereRef("m.provider", "=", "p.account_id")
        .as("machine_count"),
    );
}

export async function listProviders(db: Kysely<Database>, query: Query) {
  const status = query.oneOf("status", ["active", "paused", "retired", "slashed"]);
  const region = query.match("region", REGION, "a region id like eu-west-1", 32);
  const limit = query.limit();
  const cursor = query.cursor(1);
  query.done();
  let q = providerQuery(db);
  if (status !== undefined) q = q.where("p.status", "=", status);
  if (region !== undefined) q = q.where("p.region", "=", region);
  if (cursor !== undefined) q = q.where("p.account_id", ">", cursor[0] as string);
  const rows = await q
    .orderBy("p.account_id")
    .limit(limit + 1)
    .execute();
  const page = paginate(rows, limit, (last) => [last.account_id]);
  return {
    data: page.data.map((r) => ({ ...r, machine_count: Number(r.machine_count) })),
    next_cursor: page.next_cursor,
    as_of: await asOf(db),
  };
}

export async function getProvider(db: Kysely<Database>, accountId: string, query: Query) {
  query.done();
  if (accountId.length < 2 || accountId.length > 64) {
    throw new QueryError(`account id: must be 2 to 64 characters`);
  }
  const row = await providerQuery(db).where("p.account_id", "=", accountId).executeTakeFirst();
  if (row === undefined) return null;
  const machines = await db
    .selectFrom("machines")
    .select("id")
    .where("provider", "=", accountId)
    .orderBy("id")
    .execute();
  return {
    data: {
      ...row,
      machine_count: Number(row.machine_count),
      machine_ids: machines.map((m) => m.id),
    },
    as_of: await asOf(db),
  };
}
