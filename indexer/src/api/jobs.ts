/**
 * Jobs by id (with their full history), by client, payer, provider, machine or status; balances.
 * Each job carries its receipt's usage (model_name, prompt/completion tokens, chunks) and, once
 * delivered with token counts, tokens_per_second (throughput.ts).
 */
import type { Kysely } from "kysely";
import type { Database } from "../db/schema.ts";
import { asOf } from "./as-of.ts";
import { paginate, type Query, u64Id } from "./params.ts";
import { jobTokensPerSecond } from "./throughput.ts";

const STATUSES = [
  "requested",
  "accepted",
  "delivered",
  "disputed",
  "settled",
  "resolved",
  "refunded",
] as const;
const ASSET = /^(NEAR|[a-z0-9._-]{2,64})$/;

/** Newest first (id descending). */
export async function listJobs(db: Kysely<Database>, query: Query) {
  const client = query.accountId("client");
  const payer = query.accountId("payer");
  const provider = query.accountId("provider");
  const machineId = query.u64("machine_id");
  const status = query.oneOf("status", STATUSES);
  const limit = query.limit();
  const cursor = query.cursor(1);
  query.done();
  let q = db.selectFrom("jobs").selectAll();
  if (client !== undefined) q = q.where("client", "=", client);
  if (payer !== undefined) q = q.where("payer", "=", payer);
  if (provider !== undefined) q = q.where("provider", "=", provider);
  if (machineId !== undefined) q = q.where("machine_id", "=", machineId);
  if (status !== undefined) q = q.where("status", "=", status);
  if (cursor !== undefined) q = q.where("id", "<", u64Id(cursor[0] as string, "cursor"));
  const rows = await q
    .orderBy("id", "desc")
    .limit(limit + 1)
    .execute();
  const page = paginate(rows, limit, (last) => [last.id]);
  return {
    ...page,
    data: page.data.map((job) => ({ ...job, tokens_per_second: jobTokensPerSecond(job) })),
    as_of: await asOf(db),
  };
}

export async function getJob(db: Kysely<Database>, id: string, query: Query) {
  query.done();
  const job = await db
    .selectFrom("jobs")
    .selectAll()
    .where("id", "=", u64Id(id, "job id"))
    .executeTakeFirst();
  if (job === undefined) return null;
  const history = await db
    .selectFrom("job_history as h")
    .innerJoin("events as e", (join) =>
      join.onRef("e.receipt_id", "=", "h.receipt_id").onRef("e.log_index", "=", "h.log_index"),
    )
    .select([
      "h.event",
      "h.status",
      "h.block_height",
      "h.block_timestamp",
      "e.tx_hash",
      "e.predecessor",
    ])
    .where("h.job_id", "=", id)
    .orderBy("e.block_height")
    .orderBy("e.seq")
    .execute();
  return {
    data: { ...job, tokens_per_second: jobTokensPerSecond(job), history },
    as_of: await asOf(db),
  };
}

/** Credited (withdrawable) escrow balances, by account and asset. */
export async function listBalances(db: Kysely<Database>, query: Query) {
  const account = query.accountId("account_id");
  const asset = query.match("asset", ASSET, "NEAR or a token account id", 64);
  const limit = query.limit();
  const cursor = query.cursor(2);
  query.done();
  let q = db.selectFrom("balances").select(["account_id", "asset", "amount"]);
  if (account !== undefined) q = q.where("account_id", "=", account);
  if (asset !== undefined) q = q.where("asset", "=", asset);
  if (cursor !== undefined) {
    const [a, b] = cursor as [string, string];
    q = q.where((eb) =>
      eb.or([eb("account_id", ">", a), eb.and([eb("account_id", "=", a), eb("asset", ">", b)])]),
    );
  }
  const rows = await q
    .orderBy("account_id")
    .orderBy("asset")
    .limit(limit + 1)
    .execute();
  return {
    ...paginate(rows, limit, (last) => [last.account_id, last.asset]),
    as_of: await asOf(db),
  };
}
