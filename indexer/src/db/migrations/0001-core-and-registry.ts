/**
 * The cursor, the raw events table and the registry's tables. u128 amounts are the `u128` domain
 * (numeric(39,0) within 0..2^128-1), u64 values (times in ns, machine ids) the `u64` domain; the
 * application also validates integer strings, because numeric silently rounds 1.5.
 */
import { type Kysely, sql } from "kysely";

const UP = [
  `CREATE DOMAIN u128 AS numeric(39,0)
     CHECK (VALUE >= 0 AND VALUE <= 340282366920938463463374607431768211455)`,
  `CREATE DOMAIN u64 AS numeric(20,0)
     CHECK (VALUE >= 0 AND VALUE <= 18446744073709551615)`,

  // One row: the last block whose writes are committed, with the settings it was indexed under.
  `CREATE TABLE indexer_cursor (
     id smallint PRIMARY KEY CHECK (id = 1),
     network text NOT NULL,
     contracts jsonb NOT NULL,
     height bigint NOT NULL CHECK (height >= 0),
     block_hash text NOT NULL,
     block_timestamp u64 NOT NULL,
     updated_at timestamptz NOT NULL DEFAULT now()
   )`,

  // Every event log line of the configured contracts' successful receipts, known or not.
  `CREATE TABLE events (
     receipt_id text NOT NULL,
     log_index integer NOT NULL CHECK (log_index >= 0),
     block_height bigint NOT NULL,
     block_timestamp u64 NOT NULL,
     block_hash text NOT NULL,
     shard_id integer NOT NULL,
     seq integer NOT NULL,
     tx_hash text,
     contract text NOT NULL,
     predecessor text NOT NULL,
     standard text,
     version text,
     event text,
     data jsonb,
     status text NOT NULL CHECK (status IN ('applied', 'unknown', 'invalid')),
     error text,
     PRIMARY KEY (receipt_id, log_index),
     UNIQUE (block_height, seq)
   )`,
  `CREATE INDEX events_event ON events (event, block_height)`,
  `CREATE INDEX events_not_applied ON events (block_height) WHERE status <> 'applied'`,

  `CREATE TABLE registry_state (
     contract text PRIMARY KEY,
     owner text NOT NULL,
     treasury text NOT NULL,
     contract_version integer NOT NULL,
     params jsonb NOT NULL,
     threshold integer NOT NULL DEFAULT 1 CHECK (threshold >= 1),
     dev_mode boolean NOT NULL DEFAULT false,
     last_code_sha256 text,
     updated_height bigint NOT NULL
   )`,

  `CREATE TABLE providers (
     account_id text PRIMARY KEY,
     name text NOT NULL,
     endpoint text NOT NULL,
     region text NOT NULL,
     bond u128 NOT NULL,
     status text NOT NULL CHECK (status IN ('active', 'paused', 'retired', 'slashed')),
     created_at u64 NOT NULL,
     updated_at u64 NOT NULL,
     unbonding_ends_at u64,
     slashed_total u128 NOT NULL DEFAULT 0,
     updated_height bigint NOT NULL
   )`,
  `CREATE INDEX providers_status ON providers (status, account_id)`,
  `CREATE INDEX providers_region ON providers (region, account_id)`,

  // Search columns are kept on the machine row so that a search reads one table in index order:
  // the provider's region, the lower-cased GPU models, and eligible_until (the machine is eligible
  // while the block time is below it; null: not eligible), refreshed whenever anything it depends
  // on changes (see apply/eligibility.ts).
  `CREATE TABLE machines (
     id u64 PRIMARY KEY,
     provider text NOT NULL,
     region text NOT NULL,
     gpu_models text NOT NULL,
     eligible_until u64,
     machine_public_key text NOT NULL UNIQUE,
     tee_type text NOT NULL CHECK (tee_type IN ('tdx', 'sev-snp', 'none-dev')),
     price_per_unit u128 NOT NULL,
     status text NOT NULL CHECK (status IN ('active', 'inactive')),
     cpu_cores integer NOT NULL,
     ram_mib bigint NOT NULL,
     gpu_count integer NOT NULL,
     max_vram_mib integer NOT NULL,
     created_at u64 NOT NULL,
     updated_at u64 NOT NULL,
     evidence_hash text NOT NULL,
     evidence_size integer NOT NULL,
     evidence_nonce text NOT NULL,
     evidence_submitted_at u64 NOT NULL,
     verdict_outcome text NOT NULL DEFAULT 'pending'
       CHECK (verdict_outcome IN ('pending', 'verified', 'rejected')),
     approvals integer NOT NULL DEFAULT 0,
     rejections integer NOT NULL DEFAULT 0,
     updated_height bigint NOT NULL
   )`,
  `CREATE INDEX machines_provider ON machines (provider, id)`,
  `CREATE INDEX machines_price ON machines (price_per_unit, id)`,
  `CREATE INDEX machines_region ON machines (region, id)`,

  `CREATE TABLE machine_gpus (
     machine_id u64 NOT NULL REFERENCES machines (id) ON DELETE CASCADE,
     position integer NOT NULL,
     model text NOT NULL,
     count integer NOT NULL CHECK (count >= 1),
     vram_mib integer NOT NULL CHECK (vram_mib >= 0),
     driver text NOT NULL,
     vbios text NOT NULL,
     cc_mode text NOT NULL CHECK (cc_mode IN ('on', 'off', 'devtools')),
     PRIMARY KEY (machine_id, position)
   )`,
  `CREATE INDEX machine_gpus_model ON machine_gpus (lower(model), machine_id)`,

  // The machine's current verified attestation (it outlives newer pending evidence until expiry).
  `CREATE TABLE attestations (
     machine_id u64 PRIMARY KEY REFERENCES machines (id) ON DELETE CASCADE,
     evidence_hash text NOT NULL,
     nonce text NOT NULL,
     measurement_id text NOT NULL,
     measurements jsonb NOT NULL,
     approvers text[] NOT NULL,
     verified_at u64 NOT NULL,
     expires_at u64 NOT NULL,
     paid_by text NOT NULL,
     updated_height bigint NOT NULL
   )`,

  // Every verdict ever posted (history; kept after the machine is removed).
  `CREATE TABLE verdicts (
     receipt_id text NOT NULL,
     log_index integer NOT NULL,
     block_height bigint NOT NULL,
     machine_id u64 NOT NULL,
     evidence_hash text NOT NULL,
     verifier text NOT NULL,
     approve boolean NOT NULL,
     measurement_id text,
     measurements jsonb,
     tcb_status text NOT NULL,
     reason text NOT NULL,
     posted_at u64 NOT NULL,
     outcome text NOT NULL CHECK (outcome IN ('pending', 'verified', 'rejected')),
     approvals integer NOT NULL,
     rejections integer NOT NULL,
     PRIMARY KEY (receipt_id, log_index),
     FOREIGN KEY (receipt_id, log_index) REFERENCES events (receipt_id, log_index)
   )`,
  `CREATE INDEX verdicts_machine ON verdicts (machine_id, block_height)`,

  `CREATE TABLE verifiers (
     account_id text PRIMARY KEY,
     added_height bigint NOT NULL
   )`,

  `CREATE TABLE allowlist (
     measurement_id text PRIMARY KEY,
     label text NOT NULL,
     added_at u64 NOT NULL
   )`,
];

const DOWN = [
  "DROP TABLE allowlist",
  "DROP TABLE verifiers",
  "DROP TABLE verdicts",
  "DROP TABLE attestations",
  "DROP TABLE machine_gpus",
  "DROP TABLE machines",
  "DROP TABLE providers",
  "DROP TABLE registry_state",
  "DROP TABLE events",
  "DROP TABLE indexer_cursor",
  "DROP DOMAIN u64",
  "DROP DOMAIN u128",
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of UP) {
    await sql.raw(statement).execute(db);
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const statement of DOWN) {
    await sql.raw(statement).execute(db);
  }
}
