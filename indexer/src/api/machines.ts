/**
 * Machines: search with filters and keyset pagination, and one machine by id. Eligibility and
 * attestation state are computed as the registry computes them (contracts/registry eligibility.ts,
 * attestations.ts), at the timestamp of the last indexed block.
 */
import { type Kysely, type RawBuilder, type SqlBool, sql } from "kysely";
import type { Database } from "../db/schema.ts";
import { type AsOf, asOf } from "./as-of.ts";
import { encodeCursor, type Query, QueryError } from "./params.ts";

const REGION = /^[a-z0-9][a-z0-9-]*$/;
const DECIMAL = /^\d{1,39}$/;

/** Eligible at `now`: provider and machine active, then dev mode or a live, allowlisted attestation with k current approvers. */
function eligibleAt(now: string): RawBuilder<SqlBool> {
  return sql<SqlBool>`(
    p.status = 'active' AND m.status = 'active' AND (
      (m.tee_type = 'none-dev' AND coalesce(rs.dev_mode, false))
      OR (m.tee_type <> 'none-dev' AND a.machine_id IS NOT NULL
        AND a.expires_at > ${now}::numeric
        AND EXISTS (SELECT 1 FROM allowlist al WHERE al.measurement_id = a.measurement_id)
        AND (SELECT count(*) FROM unnest(a.approvers) AS ap(verifier)
             WHERE ap.verifier IN (SELECT account_id FROM verifiers)) >= coalesce(rs.threshold, 1))
    ))`;
}

function attestationStateAt(now: string): RawBuilder<string> {
  return sql<string>`CASE
    WHEN m.verdict_outcome = 'rejected' THEN 'rejected'
    WHEN a.machine_id IS NOT NULL AND a.evidence_hash = m.evidence_hash THEN
      CASE WHEN a.expires_at > ${now}::numeric THEN 'verified' ELSE 'expired' END
    ELSE 'pending' END`;
}

function baseQuery(db: Kysely<Database>, now: string) {
  return db
    .selectFrom("machines as m")
    .innerJoin("providers as p", "p.account_id", "m.provider")
    .leftJoin("attestations as a", "a.machine_id", "m.id")
    .leftJoin(
      (eb) => eb.selectFrom("registry_state").select(["dev_mode", "threshold"]).limit(1).as("rs"),
      (join) => join.onTrue(),
    )
    .select([
      "m.id",
      "m.provider",
      "p.region",
      "p.status as provider_status",
      "m.machine_public_key",
      "m.tee_type",
      "m.price_per_unit",
      "m.status",
      "m.cpu_cores",
      "m.ram_mib",
      "m.gpu_count",
      "m.max_vram_mib",
      "m.created_at",
      "m.updated_at",
      "m.evidence_hash",
      "m.evidence_size",
      "m.evidence_submitted_at",
      "m.verdict_outcome",
      "m.approvals",
      "m.rejections",
      "a.measurement_id",
      "a.approvers",
      "a.verified_at",
      "a.expires_at",
    ])
    .select(eligibleAt(now).as("eligible"))
    .select(attestationStateAt(now).as("attestation_state"));
}

type Row = Awaited<ReturnType<ReturnType<typeof baseQuery>["execute"]>>[number];

async function withGpus(db: Kysely<Database>, rows: Row[]) {
  const ids = rows.map((r) => r.id);
  const gpus =
    ids.length === 0
      ? []
      : await db
          .selectFrom("machine_gpus")
          .selectAll()
          .where("machine_id", "in", ids)
          .orderBy("machine_id")
          .orderBy("position")
          .execute();
  return rows.map((r) => ({
    id: r.id,
    provider: r.provider,
    region: r.region,
    provider_status: r.provider_status,
    machine_public_key: r.machine_public_key,
    tee_type: r.tee_type,
    price_per_unit: r.price_per_unit,
    status: r.status,
    hardware: {
      gpus: gpus
        .filter((g) => g.machine_id === r.id)
        .map(({ model, count, vram_mib, driver, vbios, cc_mode }) => ({
          model,
          count,
          vram_mib,
          driver,
          vbios,
          cc_mode,
        })),
      gpu_count: r.gpu_count,
      cpu_cores: r.cpu_cores,
      ram_mib: Number(r.ram_mib),
    },
    evidence: {
      hash: r.evidence_hash,
      size: r.evidence_size,
      submitted_at: r.evidence_submitted_at,
      verdicts: { outcome: r.verdict_outcome, approvals: r.approvals, rejections: r.rejections },
    },
    attestation_state: r.attestation_state,
    attestation:
      r.measurement_id === null
        ? null
        : {
            measurement_id: r.measurement_id,
            approvers: r.approvers,
            verified_at: r.verified_at,
            expires_at: r.expires_at,
          },
    eligible: r.eligible,
    created_at: r.created_at,
    updated_at: r.updated_at,
  }));
}

export interface Page<T> {
  data: T[];
  next_cursor: string | null;
  as_of: AsOf;
}

export async function searchMachines(db: Kysely<Database>, query: Query) {
  const gpuModel = query.text("gpu_model", 64);
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
  const at = await asOf(db);
  let q = baseQuery(db, at.block_timestamp ?? "0");
  if (gpuModel !== undefined) {
    const pattern = `%${gpuModel.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    q = q.where(({ exists, selectFrom }) =>
      exists(
        selectFrom("machine_gpus as g")
          .select("g.machine_id")
          .whereRef("g.machine_id", "=", "m.id")
          .where(sql<SqlBool>`lower(g.model) LIKE ${pattern}`),
      ),
    );
  }
  if (minVram !== undefined) q = q.where("m.max_vram_mib", ">=", minVram);
  if (maxPrice !== undefined) q = q.where("m.price_per_unit", "<=", maxPrice);
  if (teeType !== undefined) q = q.where("m.tee_type", "=", teeType);
  if (region !== undefined) q = q.where("p.region", "=", region);
  if (provider !== undefined) q = q.where("m.provider", "=", provider);
  if (status !== undefined) q = q.where("m.status", "=", status);
  if (eligible !== undefined) {
    const condition = eligibleAt(at.block_timestamp ?? "0");
    q = q.where(eligible ? condition : sql<SqlBool>`NOT ${condition}`);
  }
  if (sort === "id") {
    if (cursor !== undefined) q = q.where("m.id", ">", cursor[0] as string);
    q = q.orderBy("m.id");
  } else {
    if (cursor !== undefined) {
      q = q.where(
        sql<SqlBool>`(m.price_per_unit, m.id) > (${cursor[0]}::numeric, ${cursor[1]}::numeric)`,
      );
    }
    q = q.orderBy("m.price_per_unit").orderBy("m.id");
  }
  const rows = await q.limit(limit + 1).execute();
  const page = rows.slice(0, limit);
  const lastRow = page[page.length - 1];
  return {
    data: await withGpus(db, page),
    next_cursor:
      rows.length > limit && lastRow !== undefined
        ? encodeCursor(sort === "id" ? [lastRow.id] : [lastRow.price_per_unit, lastRow.id])
        : null,
    as_of: at,
  };
}

export async function getMachine(db: Kysely<Database>, id: string, query: Query) {
  query.done();
  if (!DECIMAL.test(id) || BigInt(id) >= 1n << 64n) {
    throw new QueryError(`machine id: must be a u64 decimal integer, got ${JSON.stringify(id)}`);
  }
  const at = await asOf(db);
  const rows = await baseQuery(db, at.block_timestamp ?? "0")
    .where("m.id", "=", id)
    .execute();
  const [machine] = await withGpus(db, rows);
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
