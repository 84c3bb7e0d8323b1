/**
 * Inference sessions (escrow version 4) by id (with their full history), by client, payer,
 * provider, machine or status: every field of the escrow's Session record.
 */
import type { Kysely } from "kysely";
import type { Database } from "../db/schema.ts";
import { asOf } from "./as-of.ts";
import { paginate, type Query, u64Id } from "./params.ts";

const STATUSES = ["open", "closing", "disputed", "settled", "resolved"] as const;

/** Newest first (id descending). */
export async function listSessions(db: Kysely<Database>, query: Query) {
  const client = query.accountId("client");
  const payer = query.accountId("payer");
  const provider = query.accountId("provider");
  const machineId = query.u64("machine_id");
  const status = query.oneOf("status", STATUSES);
  const limit = query.limit();
  const cursor = query.cursor(1);
  query.done();
  let q = db.selectFrom("sessions").selectAll();
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
  return { ...paginate(rows, limit, (last) => [last.id]), as_of: await asOf(db) };
}

export async function getSession(db: Kysely<Database>, id: string, query: Query) {
  query.done();
  const session = await db
    .selectFrom("sessions")
    .selectAll()
    .where("id", "=", u64Id(id, "session id"))
    .executeTakeFirst();
  if (session === undefined) return null;
  const history = await db
    .selectFrom("session_history as h")
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
    .where("h.session_id", "=", id)
    .orderBy("e.block_height")
    .orderBy("e.seq")
    .execute();
  return { data: { ...session, history }, as_of: await asOf(db) };
}
