/** The escrow's tables: its settings, allowed tokens, jobs with their history, balances, allowances, approvals, storage. */
import { type Kysely, sql } from "kysely";

const UP = [
  `CREATE TABLE escrow_state (
     contract text PRIMARY KEY,
     owner text NOT NULL,
     treasury text NOT NULL,
     arbiter text NOT NULL,
     registry text NOT NULL,
     params jsonb NOT NULL,
     contract_version integer NOT NULL,
     last_code_sha256 text,
     updated_height bigint NOT NULL
   )`,
  `CREATE TABLE escrow_tokens (
     token text PRIMARY KEY,
     added_height bigint NOT NULL
   )`,
  `CREATE TABLE jobs (
     id u64 PRIMARY KEY,
     client text NOT NULL,
     payer text NOT NULL,
     machine_id u64 NOT NULL,
     provider text NOT NULL,
     machine_public_key text NOT NULL,
     price_per_unit u128 NOT NULL,
     fee_bps integer NOT NULL CHECK (fee_bps BETWEEN 0 AND 10000),
     asset text NOT NULL,
     max_amount u128 NOT NULL,
     model_hash text NOT NULL,
     input_hash text NOT NULL,
     status text NOT NULL CHECK (status IN
       ('requested', 'accepted', 'delivered', 'disputed', 'settled', 'resolved', 'refunded')),
     created_at u64 NOT NULL,
     accept_deadline u64 NOT NULL,
     deliver_within_ns u64 NOT NULL,
     accepted_at u64,
     deliver_deadline u64,
     result_hash text,
     usage u128,
     signature text,
     amount_due u128,
     delivered_at u64,
     dispute_deadline u64,
     disputed_at u64,
     dispute_reason text,
     arbitration_deadline u64,
     resolution_note text,
     slash_requested boolean NOT NULL,
     provider_payout u128,
     fee u128,
     client_refund u128,
     closed_at u64,
     refund_reason text,
     settled_by text,
     updated_height bigint NOT NULL
   )`,
  `CREATE INDEX jobs_client ON jobs (client, id)`,
  `CREATE INDEX jobs_payer ON jobs (payer, id)`,
  `CREATE INDEX jobs_provider ON jobs (provider, id)`,
  `CREATE INDEX jobs_status ON jobs (status, id)`,
  // Every event of every job, in chain order.
  `CREATE TABLE job_history (
     receipt_id text NOT NULL,
     log_index integer NOT NULL,
     job_id u64 NOT NULL,
     block_height bigint NOT NULL,
     block_timestamp u64 NOT NULL,
     event text NOT NULL,
     status text NOT NULL,
     data jsonb NOT NULL,
     PRIMARY KEY (receipt_id, log_index),
     FOREIGN KEY (receipt_id, log_index) REFERENCES events (receipt_id, log_index)
   )`,
  `CREATE INDEX job_history_job ON job_history (job_id, block_height)`,
  // Credited (withdrawable) balances per account and asset ("NEAR" or a token account).
  `CREATE TABLE balances (
     account_id text NOT NULL,
     asset text NOT NULL,
     amount u128 NOT NULL,
     updated_height bigint NOT NULL,
     PRIMARY KEY (account_id, asset)
   )`,
  `CREATE TABLE allowances (
     owner text NOT NULL,
     spender text NOT NULL,
     asset text NOT NULL,
     limit_amount u128 NOT NULL,
     period_ns u64 NOT NULL,
     period_start u64 NOT NULL,
     spent u128 NOT NULL,
     updated_height bigint NOT NULL,
     PRIMARY KEY (owner, spender, asset)
   )`,
  `CREATE TABLE approvals (
     id u64 PRIMARY KEY,
     payer text NOT NULL,
     client text NOT NULL,
     asset text NOT NULL,
     max_amount u128 NOT NULL,
     request jsonb NOT NULL,
     requested_at u64 NOT NULL,
     status text NOT NULL CHECK (status IN ('pending', 'granted', 'rejected')),
     rejected_by text,
     updated_height bigint NOT NULL
   )`,
  `CREATE TABLE escrow_storage (
     account_id text PRIMARY KEY,
     total u128 NOT NULL,
     available u128 NOT NULL,
     updated_height bigint NOT NULL
   )`,
];

const DOWN = [
  "DROP TABLE escrow_storage",
  "DROP TABLE approvals",
  "DROP TABLE allowances",
  "DROP TABLE balances",
  "DROP TABLE job_history",
  "DROP TABLE jobs",
  "DROP TABLE escrow_tokens",
  "DROP TABLE escrow_state",
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
