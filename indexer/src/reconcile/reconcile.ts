/**
 * Reconciliation: compares what the database says with the contracts' own views, at the block
 * the database is indexed to (view calls name that block, so a chain moving on meanwhile does not
 * show up as a difference). Checks a random sample of records per table, or all of them; with
 * --all it also lists the chain's records to find ones missing from the database.
 */
import { type Kysely, sql } from "kysely";
import { asOf } from "../api/as-of.ts";
import { describeMachines, getMachine } from "../api/machines.ts";
import { Query } from "../api/params.ts";
import { readCursor } from "../db/cursor.ts";
import type { Database } from "../db/schema.ts";
import type { Contracts } from "../decode/contracts.ts";
import { ViewClient } from "./rpc.ts";

export interface Difference {
  table: string;
  key: string;
  field: string;
  database: unknown;
  chain: unknown;
}

export interface ReconcileReport {
  block: string | number;
  height: number;
  checked: Record<string, number>;
  differences: Difference[];
}

export interface ReconcileOptions {
  db: Kysely<Database>;
  rpcUrl: string;
  contracts: Contracts;
  /** Records per table; null: all. */
  sample: number | null;
}

type Json = Record<string, unknown>;
const PAGE = 100;
/** Most ids per are_eligible call (the registry's limit). */
const ELIGIBILITY_BATCH = 50;
/** Machines whose attestation state `--all` compares (one view call each). */
const ATTESTATION_SAMPLE = 50;

/** JSON with object keys sorted (jsonb does not keep key order). */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    typeof v === "object" && v !== null && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

class Comparer {
  readonly differences: Difference[] = [];
  readonly checked: Record<string, number> = {};

  count(table: string): void {
    this.checked[table] = (this.checked[table] ?? 0) + 1;
  }

  /** Records a difference for every field of `chain` whose value differs in `database`. */
  fields(table: string, key: string, database: Json, chain: Json, fields: string[]): void {
    this.count(table);
    for (const field of fields) {
      const a = database[field] ?? null;
      const b = chain[field] ?? null;
      if (canonical(a) !== canonical(b)) {
        this.differences.push({ table, key, field, database: a, chain: b });
      }
    }
  }

  missing(table: string, key: string, where: "database" | "chain"): void {
    this.count(table);
    this.differences.push({
      table,
      key,
      field: "(record)",
      database: where === "database" ? null : "present",
      chain: where === "chain" ? null : "present",
    });
  }
}

async function listAll<T>(
  view: ViewClient,
  contract: string,
  method: string,
  pageSize = PAGE,
): Promise<T[]> {
  const out: T[] = [];
  for (let from = 0; ; from += pageSize) {
    const page = await view.view<T[]>(contract, method, { from_index: from, limit: pageSize });
    out.push(...page);
    if (page.length < pageSize) return out;
  }
}

async function reconcileRegistry(
  db: Kysely<Database>,
  view: ViewClient,
  registry: string,
  sample: number | null,
  c: Comparer,
): Promise<void> {
  const info = await view.view<Json>(registry, "registry_info");
  const state = await db
    .selectFrom("registry_state")
    .selectAll()
    .where("contract", "=", registry)
    .executeTakeFirst();
  if (state === undefined) {
    c.missing("registry_state", registry, "database");
  } else {
    c.fields(
      "registry_state",
      registry,
      {
        owner: state.owner,
        treasury: state.treasury,
        params: state.params,
        threshold: state.threshold,
        dev_mode: state.dev_mode,
        version: state.contract_version,
      },
      info,
      ["owner", "treasury", "params", "threshold", "dev_mode", "version"],
    );
  }

  const verifiers = await db
    .selectFrom("verifiers")
    .select("account_id")
    .orderBy("account_id")
    .execute();
  const chainVerifiers = (
    await view.view<{ verifiers: string[] }>(registry, "get_verifiers", {
      from_index: 0,
      limit: PAGE,
    })
  ).verifiers;
  c.fields(
    "verifiers",
    "(set)",
    { verifiers: verifiers.map((v) => v.account_id) },
    { verifiers: [...chainVerifiers].sort() },
    ["verifiers"],
  );

  const allowlist = await db
    .selectFrom("allowlist")
    .selectAll()
    .orderBy("measurement_id")
    .execute();
  const chainAllowlist = (await listAll<Json>(view, registry, "allowlist")).sort((a, b) =>
    String(a.measurement_id).localeCompare(String(b.measurement_id)),
  );
  c.fields("allowlist", "(set)", { entries: allowlist }, { entries: chainAllowlist }, ["entries"]);

  const order = sample === null ? sql`account_id` : sql`random()`;
  const providers = await db
    .selectFrom("providers")
    .selectAll()
    .orderBy(order)
    .limit(sample ?? 1_000_000_000)
    .execute();
  for (const p of providers) {
    const chain = await view.view<Json | null>(registry, "provider", { account_id: p.account_id });
    if (chain === null) {
      c.missing("providers", p.account_id, "chain");
      continue;
    }
    c.fields("providers", p.account_id, p, chain, [
      "name",
      "endpoint",
      "region",
      "bond",
      "status",
      "created_at",
      "updated_at",
      "unbonding_ends_at",
    ]);
  }

  if (sample === null) {
    await allMachines(db, view, registry, c);
  } else {
    const machineIds = await db
      .selectFrom("machines")
      .select("id")
      .orderBy(sql`random()`)
      .limit(sample)
      .execute();
    for (const { id } of machineIds) await oneMachine(db, view, registry, id, c);
  }

  if (sample === null) {
    // Providers the chain has and the database lacks.
    const known = new Set(providers.map((p) => p.account_id));
    for (const p of await listAll<Json>(view, registry, "providers")) {
      if (!known.has(String(p.account_id)))
        c.missing("providers", String(p.account_id), "database");
    }
  }
}

/** The machine fields compared: the database's answer (API shape) and the chain's record. */
const MACHINE_FIELDS = [
  "provider",
  "machine_public_key",
  "encryption_key",
  "models",
  "keyset_sha256",
  "tee_type",
  "price_per_unit",
  "status",
  "created_at",
  "updated_at",
  "evidence_hash",
  "evidence_size",
  "gpus",
  "cpu_cores",
  "ram_mib",
];

type Described = Awaited<ReturnType<typeof describeMachines>>[number];

function machineFromDatabase(m: Described): Json {
  return {
    provider: m.provider,
    machine_public_key: m.machine_public_key,
    encryption_key: m.encryption_key,
    models: m.models,
    keyset_sha256: m.keyset_sha256,
    tee_type: m.tee_type,
    price_per_unit: m.price_per_unit,
    status: m.status,
    created_at: m.created_at,
    updated_at: m.updated_at,
    evidence_hash: m.evidence.hash,
    evidence_size: m.evidence.size,
    gpus: m.hardware.gpus,
    cpu_cores: m.hardware.cpu_cores,
    ram_mib: m.hardware.ram_mib,
    attestation_state: m.attestation_state,
  };
}

function machineFromChain(chain: Json): Json {
  const evidence = chain.evidence as Json;
  const hardware = chain.hardware as Json;
  return {
    ...chain,
    evidence_hash: evidence.hash,
    evidence_size: evidence.size,
    gpus: hardware.gpus,
    cpu_cores: hardware.cpu_cores,
    ram_mib: hardware.ram_mib,
  };
}

/** One machine against the `machine` and `is_eligible` views (attestation state included). */
async function oneMachine(
  db: Kysely<Database>,
  view: ViewClient,
  registry: string,
  id: string,
  c: Comparer,
): Promise<void> {
  const chain = await view.view<Json | null>(registry, "machine", { machine_id: id });
  const answer = await getMachine(db, id, new Query(new URLSearchParams()));
  if (chain === null || answer === null) {
    c.missing("machines", id, chain === null ? "chain" : "database");
    return;
  }
  c.fields("machines", id, machineFromDatabase(answer.data), machineFromChain(chain), [
    ...MACHINE_FIELDS,
    "attestation_state",
  ]);
  const eligibility = await view.view<{ eligible: boolean }>(registry, "is_eligible", {
    machine_id: id,
  });
  c.fields("eligibility", id, { eligible: answer.data.eligible }, eligibility, ["eligible"]);
}

/**
 * Every machine, a page of the chain's `machines` listing at a time, against the database's
 * answers for the same ids, with `are_eligible` for the page; then the database's machines the
 * chain lacks. The attestation state (only the `machine` view gives it) is compared for a random
 * sample of machines.
 */
async function allMachines(
  db: Kysely<Database>,
  view: ViewClient,
  registry: string,
  c: Comparer,
): Promise<void> {
  const now = (await asOf(db)).block_timestamp ?? "0";
  const seen = new Set<string>();
  for (let from = 0; ; from += PAGE) {
    const page = await view.view<Json[]>(registry, "machines", { from_index: from, limit: PAGE });
    const ids = page.map((m) => String(m.id));
    const described = new Map((await describeMachines(db, ids, now)).map((m) => [m.id, m]));
    const eligible = new Map<string, boolean>();
    for (let i = 0; i < ids.length; i += ELIGIBILITY_BATCH) {
      const batch = ids.slice(i, i + ELIGIBILITY_BATCH);
      // Answers come in the order of the ids asked for.
      const answers = await view.view<{ eligible: boolean }[]>(registry, "are_eligible", {
        machine_ids: batch,
      });
      batch.forEach((id, j) => {
        eligible.set(id, answers[j]?.eligible ?? false);
      });
    }
    for (const chain of page) {
      const id = String(chain.id);
      seen.add(id);
      const m = described.get(id);
      if (m === undefined) {
        c.missing("machines", id, "database");
        continue;
      }
      c.fields("machines", id, machineFromDatabase(m), machineFromChain(chain), MACHINE_FIELDS);
      c.fields("eligibility", id, { eligible: m.eligible }, { eligible: eligible.get(id) }, [
        "eligible",
      ]);
    }
    if (page.length < PAGE) break;
  }
  const stored = await db.selectFrom("machines").select("id").execute();
  for (const { id } of stored) if (!seen.has(id)) c.missing("machines", id, "chain");
  const sampled = await db
    .selectFrom("machines")
    .select("id")
    .orderBy(sql`random()`)
    .limit(ATTESTATION_SAMPLE)
    .execute();
  for (const { id } of sampled) {
    const chain = await view.view<Json | null>(registry, "machine", { machine_id: id });
    const answer = await getMachine(db, id, new Query(new URLSearchParams()));
    if (chain === null || answer === null) continue;
    c.fields("attestation_state", id, { attestation_state: answer.data.attestation_state }, chain, [
      "attestation_state",
    ]);
  }
}

async function reconcileEscrow(
  db: Kysely<Database>,
  view: ViewClient,
  escrow: string,
  sample: number | null,
  c: Comparer,
): Promise<void> {
  const info = await view.view<Json>(escrow, "escrow_info");
  const state = await db
    .selectFrom("escrow_state")
    .selectAll()
    .where("contract", "=", escrow)
    .executeTakeFirst();
  if (state === undefined) {
    c.missing("escrow_state", escrow, "database");
  } else {
    c.fields("escrow_state", escrow, { ...state, version: state.contract_version }, info, [
      "owner",
      "treasury",
      "arbiter",
      "registry",
      "params",
      "version",
    ]);
  }
  const order = sample === null ? sql`id` : sql`random()`;
  const jobs = await db
    .selectFrom("jobs")
    .selectAll()
    .orderBy(order)
    .limit(sample ?? 1_000_000_000)
    .execute();
  for (const job of jobs) {
    const chain = await view.view<Json | null>(escrow, "job", { job_id: job.id });
    if (chain === null) {
      c.missing("jobs", job.id, "chain");
      continue;
    }
    const { updated_height: _height, ...fields } = job;
    c.fields("jobs", job.id, fields, chain, Object.keys(fields));
  }
  const balances = await db
    .selectFrom("balances")
    .selectAll()
    .orderBy(sample === null ? sql`account_id, asset` : sql`random()`)
    .limit(sample ?? 1_000_000_000)
    .execute();
  for (const b of balances) {
    const amount = await view.view<string>(escrow, "balance_of", {
      account_id: b.account_id,
      asset: b.asset,
    });
    c.fields("balances", `${b.account_id}/${b.asset}`, { amount: b.amount }, { amount }, [
      "amount",
    ]);
  }
  if (sample === null) {
    // Jobs the chain has and the database lacks.
    const known = new Set(jobs.map((j) => j.id));
    const pageSize = Number((info.params as Json | undefined)?.max_page_size ?? 50);
    for (const job of await listAll<Json>(view, escrow, "jobs", pageSize)) {
      if (!known.has(String(job.id))) c.missing("jobs", String(job.id), "database");
    }
  }
  await reconcileSessions(db, view, escrow, info, sample, c);
}

/**
 * Sessions (escrow version 4) against the `session` view; with --all, every session the chain
 * lists for a provider the index knows (registry providers and sessions' providers) must be in the
 * database too. An escrow before version 4 has no session views and is not asked.
 */
async function reconcileSessions(
  db: Kysely<Database>,
  view: ViewClient,
  escrow: string,
  info: Json,
  sample: number | null,
  c: Comparer,
): Promise<void> {
  const sessions = await db
    .selectFrom("sessions")
    .selectAll()
    .orderBy(sample === null ? sql`id` : sql`random()`)
    .limit(sample ?? 1_000_000_000)
    .execute();
  for (const session of sessions) {
    const chain = await view.view<Json | null>(escrow, "session", { session_id: session.id });
    if (chain === null) {
      c.missing("sessions", session.id, "chain");
      continue;
    }
    const { updated_height: _height, ...fields } = session;
    c.fields("sessions", session.id, fields, chain, Object.keys(fields));
  }
  if (sample !== null || Number(info.version ?? 0) < 4) return;
  const known = new Set(sessions.map((s) => s.id));
  const providers = await db
    .selectFrom("providers")
    .select("account_id")
    .union(db.selectFrom("sessions").select("provider as account_id"))
    .execute();
  const pageSize = Number((info.params as Json | undefined)?.max_page_size ?? 50);
  for (const { account_id } of providers) {
    for (let from = 0; ; from += pageSize) {
      const page = await view.view<Json[]>(escrow, "sessions_by_provider", {
        account_id,
        from_index: from,
        limit: pageSize,
      });
      for (const s of page) {
        if (!known.has(String(s.id))) c.missing("sessions", String(s.id), "database");
      }
      if (page.length < pageSize) break;
    }
  }
}

async function reconcileGovernance(
  db: Kysely<Database>,
  view: ViewClient,
  governance: string,
  sample: number | null,
  c: Comparer,
): Promise<void> {
  const limit = sample ?? 1_000_000_000;
  const order = (key: string) => (sample === null ? sql.raw(key) : sql`random()`);
  const proposals = await db
    .selectFrom("proposals")
    .selectAll()
    .orderBy(order("id"))
    .limit(limit)
    .execute();
  for (const p of proposals) {
    const chain = await view.view<Json | null>(governance, "proposal", {
      proposal_id: Number(p.id),
    });
    if (chain === null) {
      c.missing("proposals", p.id, "chain");
      continue;
    }
    c.fields(
      "proposals",
      p.id,
      {
        ...p,
        id: Number(p.id),
        created_height: Number(p.created_height),
        snapshot_height: Number(p.snapshot_height),
        vote_end_height: Number(p.vote_end_height),
        eta_height: p.eta_height === null ? null : Number(p.eta_height),
      },
      chain,
      [
        "proposer",
        "description",
        "actions",
        "created_height",
        "snapshot_height",
        "vote_end_height",
        "quorum",
        "votes_for",
        "votes_against",
        "votes_abstain",
        "stage",
        "eta_height",
        "executed_actions",
        "failure",
        "canceled_by",
      ],
    );
  }
  const holders = await db
    .selectFrom("token_holders")
    .selectAll()
    .orderBy(order("account_id"))
    .limit(limit)
    .execute();
  for (const h of holders) {
    const balance = await view.view<string>(governance, "ft_balance_of", {
      account_id: h.account_id,
    });
    c.fields("token_holders", h.account_id, { balance: h.balance }, { balance }, ["balance"]);
  }
  const delegates = await db
    .selectFrom("delegates")
    .selectAll()
    .orderBy(order("account_id"))
    .limit(limit)
    .execute();
  for (const d of delegates) {
    const votes = await view.view<string>(governance, "get_votes", { account_id: d.account_id });
    c.fields("delegates", d.account_id, { votes: d.votes }, { votes }, ["votes"]);
  }
}

export async function reconcile(options: ReconcileOptions): Promise<ReconcileReport> {
  const cursor = await readCursor(options.db);
  if (cursor === null) {
    throw new Error("nothing to reconcile: the database has no cursor yet");
  }
  const block = cursor.blockHash !== "" ? cursor.blockHash : cursor.height;
  const view = new ViewClient(options.rpcUrl, block);
  const c = new Comparer();
  if (options.contracts.registry !== null) {
    await reconcileRegistry(options.db, view, options.contracts.registry, options.sample, c);
  }
  if (options.contracts.escrow !== null) {
    await reconcileEscrow(options.db, view, options.contracts.escrow, options.sample, c);
  }
  if (options.contracts.governance !== null) {
    await reconcileGovernance(options.db, view, options.contracts.governance, options.sample, c);
  }
  return { block, height: cursor.height, checked: c.checked, differences: c.differences };
}

export function formatReport(report: ReconcileReport): string {
  const lines = [
    `reconciled at block ${report.block} (height ${report.height})`,
    ...Object.entries(report.checked).map(([table, n]) => `  ${table}: ${n} checked`),
  ];
  if (report.differences.length === 0) {
    lines.push("no differences");
  } else {
    lines.push(`${report.differences.length} differences:`);
    for (const d of report.differences) {
      lines.push(
        `  ${d.table} ${d.key} ${d.field}: database ${JSON.stringify(d.database)}, chain ${JSON.stringify(d.chain)}`,
      );
    }
  }
  return `${lines.join("\n")}\n`;
}
