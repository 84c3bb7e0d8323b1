/** The raw events table: every recorded event, filterable by status (to find unknown ones). */
import type { Kysely } from "kysely";
import type { Database } from "../db/schema.ts";
import { asOf } from "./as-of.ts";
import { paginate, type Query, QueryError } from "./params.ts";

export async function listEvents(db: Kysely<Database>, query: Query) {
  const status = query.oneOf("status", ["applied", "unknown", "invalid"]);
  const event = query.match("event", /^[a-z0-9_]+$/, "an event name", 64);
  const contract = query.accountId("contract");
  const fromHeight = query.int("from_height", 0, Number.MAX_SAFE_INTEGER);
  const limit = query.limit();
  const cursor = query.cursor(2);
  query.done();
  if (cursor !== undefined && !cursor.every((v) => /^\d{1,16}$/.test(v))) {
    throw new QueryError("cursor: not a cursor returned by this endpoint with these parameters");
  }
  let q = db
    .selectFrom("events")
    .select([
      "block_height",
      "block_timestamp",
      "seq",
      "receipt_id",
      "log_index",
      "tx_hash",
      "contract",
      "predecessor",
      "standard",
      "version",
      "event",
      "data",
      "status",
      "error",
    ]);
  if (status !== undefined) q = q.where("status", "=", status);
  if (event !== undefined) q = q.where("event", "=", event);
  if (contract !== undefined) q = q.where("contract", "=", contract);
  if (fromHeight !== undefined) q = q.where("block_height", ">=", String(fromHeight));
  if (cursor !== undefined) {
    const [height, seq] = cursor as [string, string];
    q = q.where((eb) =>
      eb.or([
        eb("block_height", ">", height),
        eb.and([eb("block_height", "=", height), eb("seq", ">", Number(seq))]),
      ]),
    );
  }
  const rows = await q
    .orderBy("block_height")
    .orderBy("seq")
    .limit(limit + 1)
    .execute();
  const page = paginate(rows, limit, (last) => [String(last.block_height), String(last.seq)]);
  return {
    data: page.data.map((r) => ({ ...r, block_height: Number(r.block_height) })),
    next_cursor: page.next_cursor,
    as_of: await asOf(db),
  };
}
