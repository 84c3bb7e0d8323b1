/**
 * Machines: search with filters and keyset pagination, and one machine by id. Eligibility and
 * attestation state are computed as the registry computes them (contracts/registry eligibility.ts,
 * attestations.ts), at the timestamp of the last indexed block.
 */
import { type Kysely, type RawBuilder, type SqlBool, sql } from "kysely";
import type { Database } from "../db/schema.ts";
import { type AsOf, asOf } from "./as-of.ts";
import { paginate, type Query, QueryError } from "./params.ts";
import { machineThroughput, NO_THROUGHPUT } from "./throughput.ts";

const REGION = /^[a-z0-9][a-z0-9-]*$/;
const DECIMAL = /^\d{1,39}$/;
/** A model name as keysets spell it (contracts/common inference-messages.ts), or a weights sha256. */
const MODEL = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$/;
const SHA256 = /^[0-9a-fA-F]{64}$/;

/** Eligible at `now` (the registry's rule, precomputed as machines.eligible_until). */
function eligibleAt(now: string): RawBuilder<SqlBool> {
  return sql<SqlBool>`(m.eligible_until IS NOT NULL AND m.eligible_until > ${now}::numeric)`;
}

/** The search reads the machines table alone (in index order); pages are enriched afterwards. */
function searchQuery(db: Kysely<Database>) {
  return db.selectFrom("machines as m").select(["m.id", "m.price_per_unit"]);
}

/** The full answer for the given machine ids, in the given order (ids the index lacks are left out). */
export async function describeMachines(db: Kysely<Database>, ids: string[], now: string) {
  if (ids.length === 0) return [];
  const rows = await db
    .selectFrom("machines as m")
    .innerJoin("providers as p", "p.account_id", "m.provider")
    .leftJoin("attestations as a", "a.machine_id", "m.id")
    .select([
      "m.id",
      "m.provider",
      "m.region",
      "p.status as provider_status",
      "m.machine_public_key",
      "m.encryption_key",
      "m.models",
      "m.keyset_sha256",
      "m.tee_type",
      "m.price_per_unit",
      "m.status",
      "m.cpu_cores",
      "m.ram_mib",
      "m.gpu_count",
      "m.created_at",
      "m.updated_at",
      "m.evidence_hash",
      "m.evidence_size",
      "m.evidence_submitted_at",
      "m.verdict_outcome",
      "m.approvals",
      "m.rejections",
      "a.evidence_hash as attested_evidence_hash",
      "a.measurement_id",
      "a.approvers",
      "a.verified_at",
      "a.expires_at",
      "a.keyset_sha256 as attested_keyset_sha256",
    ])
    .select(eligibleAt(now).as("eligible"))
    .where("m.id", "in", ids)
    .execute();
  const gpus = await db
    .selectFrom("machine_gpus")
    .selectAll()
    .where("machine_id", "in", ids)
    .orderBy("machine_id")
    .orderBy("position")
    .execute();
  const byId = new Map(rows.map((r) => [r.id, r]));
  const throughput = await machineThroughput(db, ids);
  return ids.flatMap((id) => {
    const r = byId.get(id);
    if (r === undefined) return [];
    // As the registry's attestationState: a rejected latest evidence, else the attestation of
    // the latest evidence (expired or not), else pending.
    let attestationState = "pending";
    if (r.verdict_outcome === "rejected") attestationState = "rejected";
    else if (r.attested_evidence_hash === r.evidence_hash && r.expires_at !== null)
      attestationState = BigInt(r.expires_at) > BigInt(now) ? "verified" : "expired";
    return [
      {
        id: r.id,
        provider: r.provider,
        region: r.region,
        provider_status: r.provider_status,
        machine_public_key: r.machine_public_key,
        encryption_key: r.encryption_key,
        models: r.models,
        keyset_sha256: r.keyset_sha256,
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
          verdicts: {
            outcome: r.verdict_outcome,
            approvals: r.approvals,
            rejections: r.rejections,
          },
        },
        attestation_state: attestationState,
        attestation:
          r.measurement_id === null
            ? null
            : {
                evidence_hash: r.attested_evidence_hash,
                measurement_id: r.measurement_id,
                approvers: r.approvers,
                verified_at: r.verified_at,
                expires_at: r.expires_at,
                keyset_sha256: r.attested_keyset_sha256,
              },
        eligible: r.eligible,
        throughput: throughput.get(id) ?? NO_THROUGHPUT,
        created_at: r.created_at,
        updated_at: r.updated_at,
      },
    ];
  });
}

export interface Page<T> {
  data: T[];
  next_cursor: string | null;
  as_of: AsOf;
}

export async function searchMachines(db: Kysely<Database>, query: Query) {
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
  const at = await asOf(db);
  const now = at.block_timestamp ?? "0";
  let q = searchQuery(db);
  if (gpuModel !== undefined) {
    const pattern = `%${gpuModel.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    q = q.where(sql<SqlBool>`m.gpu_models LIKE ${pattern}`);
  }
  if (model !== undefined) {
    // By name, or by weights hash (the GIN index on models answers both containments).
    const byName = JSON.stringify([{ name: model }]);
    const byHash = SHA256.test(model)
      ? JSON.stringify([{ weights_sha256: model.toLowerCase() }])
      : null;
    q = q.where(
      byHash === null
        ? sql<SqlBool>`m.models @> ${byName}::jsonb`
        : sql<SqlBool>`(m.models @> ${byName}::jsonb OR m.models @> ${byHash}::jsonb)`,
    );
  }
  if (minVram !== undefined) q = q.where("m.max_vram_mib", ">=", minVram);
  if (maxPrice !== undefined) q = q.where("m.price_per_unit", "<=", maxPrice);
  if (teeType !== undefined) q = q.where("m.tee_type", "=", teeType);
  if (region !== undefined) q = q.where("m.region", "=", region);
  if (provider !== undefined) q = q.where("m.provider", "=", provider);
  if (status !== undefined) q = q.where("m.status", "=", status);
  if (eligible !== undefined) {
    const condition = eligibleAt(now);
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
  const page = paginate(rows, limit, (last) =>
    sort === "id" ? [last.id] : [last.price_per_unit, last.id],
  );
  return {
    data: await describeMachines(
      db,
      page.data.map((r) => r.id),
      now,
    ),
    next_cursor: page.next_cursor,
    as_of: at,
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
