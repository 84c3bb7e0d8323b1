/**
 * Machines: search with filters and keyset pagination, and one machine by id. Eligibility and
 * attestation state are computed as the registry computes them (contracts/registry eligibility.ts,
 * attestations.ts), at the timestamp of the last indexed block. A search is one prepared statement
 * that reads the cursor, finds the page in index order on the machines table alone, and builds the
 * page's JSON (machine-json.ts); the API process only frames it.
 */
import { createHash } from "node:crypto";
import { type Kysely, sql } from "kysely";
import type pg from "pg";
import type { Database } from "../db/schema.ts";
import { asOf } from "./as-of.ts";
import { machineJson } from "./machine-json.ts";
import { encodeCursor, type Query, QueryError } from "./params.ts";

const REGION = /^[a-z0-9][a-z0-9-]*$/;
const DECIMAL = /^\d{1,39}$/;
/** A model name as keysets spell it (contracts/common inference-messages.ts), or a weights sha256. */
const MODEL = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$/;
const SHA256 = /^[0-9a-fA-F]{64}$/;

/** A machine as the API answers it (machine-json.ts). */
export interface MachineAnswer {
  id: string;
  provider: string;
  region: string;
  provider_status: string;
  machine_public_key: string;
  encryption_key: string | null;
  models: unknown;
  keyset_sha256: string | null;
  tee_type: string;
  price_per_unit: string;
  status: string;
  hardware: { gpus: unknown[]; gpu_count: number; cpu_cores: number; ram_mib: number };
  evidence: { hash: string; size: number; submitted_at: string; verdicts: unknown };
  attestation_state: string;
  attestation: unknown;
  eligible: boolean;
  throughput: unknown;
  created_at: string;
  updated_at: string;
}

/** The full answer for the given machine ids, in the given order (ids the index lacks are left out). */
export async function describeMachines(
  db: Kysely<Database>,
  ids: string[],
  now: string,
): Promise<MachineAnswer[]> {
  if (ids.length === 0) return [];
  if (!DECIMAL.test(now)) throw new Error(`describeMachines: now ${now} is not a timestamp`);
  const rows = await sql<{ id: string; machine: MachineAnswer }>`
    SELECT m.id::text AS id, ${sql.raw(machineJson(`${now}::numeric`))} AS machine
    FROM machines AS m
      JOIN providers AS p ON p.account_id = m.provider
      LEFT JOIN attestations AS a ON a.machine_id = m.id
    WHERE m.id = ANY(${ids}::numeric[])`.execute(db);
  const byId = new Map(rows.rows.map((r) => [r.id, r.machine]));
  return ids.flatMap((id) => {
    const machine = byId.get(id);
    return machine === undefined ? [] : [machine];
  });
}

/** A page of machines as JSON text, ready to send. */
export interface JsonPage {
  status: 200;
  json: string;
}

export async function searchMachines(pool: pg.Pool, query: Query): Promise<JsonPage> {
  const gpuModel = query.text("gpu_model", 64);
  const model = query.match("model", MODEL, "a model name or a weights sha256 (64 hex)", 64);
  const minVram = query.int("min_vram_mib", 0, 10_000_000);
  const maxPrice = query.u128("max_price");
  const teeType = query.oneOf("tee_type", ["tdx", "sev-snp", "none-dev"]);
  const region = query.match("region", REGION, "a region id like eu-west-1", 32);
  const provider = query.accountId("provider");
  const status = query.oneOf("status", ["active", "inactive"]);
  const eligible = query.bool("eligible");
  const sort = query.oneOf("sort", ["id", "price"]) ?? "id";
  const limit = query.limit();
  const cursor = query.cursor(sort === "id" ? 1 : 2);
  query.done();
  if (cursor !== undefined && !cursor.every((v) => DECIMAL.test(v))) {
    throw new QueryError("cursor: not a cursor returned by this endpoint with these parameters");
  }
  const values: unknown[] = [];
  const param = (value: unknown): string => {
    values.push(value);
    return `$${values.length}`;
  };
  const where: string[] = [];
  if (gpuModel !== undefined) {
    const pattern = `%${gpuModel.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    where.push(`m.gpu_models LIKE ${param(pattern)}`);
  }
  if (model !== undefined) {
    // By name, or by weights hash (the GIN index on models answers both containments).
    const byName = param(JSON.stringify([{ name: model }]));
    where.push(
      SHA256.test(model)
        ? `(m.models @> ${byName}::jsonb OR m.models @> ${param(JSON.stringify([{ weights_sha256: model.toLowerCase() }]))}::jsonb)`
        : `m.models @> ${byName}::jsonb`,
    );
  }
  if (minVram !== undefined) where.push(`m.max_vram_mib >= ${param(minVram)}::int`);
  if (maxPrice !== undefined) where.push(`m.price_per_unit <= ${param(maxPrice)}::numeric`);
  if (teeType !== undefined) where.push(`m.tee_type = ${param(teeType)}`);
  if (region !== undefined) where.push(`m.region = ${param(region)}`);
  if (provider !== undefined) where.push(`m.provider = ${param(provider)}`);
  if (status !== undefined) where.push(`m.status = ${param(status)}`);
  if (eligible !== undefined) {
    const condition = "(m.eligible_until IS NOT NULL AND m.eligible_until > now.t)";
    where.push(eligible ? condition : `NOT ${condition}`);
  }
  let order: string;
  if (sort === "id") {
    if (cursor !== undefined) where.push(`m.id > ${param(cursor[0])}::numeric`);
    order = "m.id";
  } else {
    if (cursor !== undefined) {
      where.push(
        `(m.price_per_unit, m.id) > (${param(cursor[0])}::numeric, ${param(cursor[1])}::numeric)`,
      );
    }
    order = "m.price_per_unit, m.id";
  }
  const pageSize = param(limit);
  const text = `WITH at AS (SELECT height, block_timestamp FROM indexer_cursor WHERE id = 1),
    now AS (SELECT coalesce((SELECT block_timestamp FROM at), 0)::numeric AS t),
    hits AS (
      SELECT m.id, m.price_per_unit, row_number() OVER (ORDER BY ${order}) AS n
      FROM (SELECT m.id, m.price_per_unit FROM machines AS m CROSS JOIN now
            WHERE ${where.length === 0 ? "true" : where.join(" AND ")}
            ORDER BY ${order} LIMIT ${pageSize}::int + 1) AS m)
    SELECT (SELECT height FROM at) AS height,
      (SELECT block_timestamp::text FROM at) AS block_timestamp,
      (SELECT count(*) FROM hits) > ${pageSize}::int AS more,
      (SELECT h.id::text FROM hits AS h WHERE h.n = ${pageSize}::int) AS last_id,
      (SELECT h.price_per_unit::text FROM hits AS h WHERE h.n = ${pageSize}::int) AS last_price,
      coalesce((
        SELECT json_agg(${machineJson("now.t")} ORDER BY h.n)
        FROM hits AS h
          JOIN machines AS m ON m.id = h.id
          JOIN providers AS p ON p.account_id = m.provider
          LEFT JOIN attestations AS a ON a.machine_id = m.id
          CROSS JOIN now
        WHERE h.n <= ${pageSize}::int), '[]'::json)::text AS data`;
  const result = await pool.query<{
    height: string | null;
    block_timestamp: string | null;
    more: boolean;
    last_id: string | null;
    last_price: string | null;
    data: string;
  }>({
    name: `search_${createHash("sha1").update(text).digest("hex").slice(0, 16)}`,
    text,
    values,
  });
  const row = result.rows[0];
  if (row === undefined) throw new Error("the machine search returned no row");
  const nextCursor =
    row.more && row.last_id !== null
      ? encodeCursor(sort === "id" ? [row.last_id] : [row.last_price ?? "", row.last_id])
      : null;
  const asOfJson = JSON.stringify({
    block_height: row.height === null ? null : Number(row.height),
    block_timestamp: row.block_timestamp,
  });
  return {
    status: 200,
    json: `{"data":${row.data},"next_cursor":${JSON.stringify(nextCursor)},"as_of":${asOfJson}}`,
  };
}

export async function getMachine(db: Kysely<Database>, id: string, query: Query) {
  query.done();
  if (!DECIMAL.test(id) || BigInt(id) >= 1n << 64n) {
    throw new QueryError(`machine id: must be a u64 decimal integer, got ${JSON.stringify(id)}`);
  }
  const at = await asOf(db);
  const [machine] = await describeMachines(db, [id], at.block_timestamp ?? "0");
  if (machine === undefined) return null;
  const verdicts = await db
    .selectFrom("verdicts")
    .select([
      "verifier",
      "approve",
      "evidence_hash",
      "measurement_id",
      "tcb_status",
      "reason",
      "posted_at",
      "outcome",
      "block_height",
    ])
    .where("machine_id", "=", id)
    .orderBy("block_height")
    .orderBy("receipt_id")
    .execute();
  return { data: { ...machine, verdict_history: verdicts }, as_of: at };
}
