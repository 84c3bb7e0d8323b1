/**
 * Inference sessions (escrow version 4): one row per session with every field of the escrow's
 * Session record, and every event of every session in chain order (as jobs and job_history).
 */
import { type Kysely, sql } from "kysely";

const UP = [
  `CREATE TABLE sessions (
     id u64 PRIMARY KEY,
     client text NOT NULL,
     payer text NOT NULL,
     client_key text NOT NULL,
     machine_id u64 NOT NULL,
     provider text NOT NULL,
     machine_public_key text NOT NULL,
     price_per_unit u128 NOT NULL,
     fee_bps integer NOT NULL CHECK (fee_bps BETWEEN 0 AND 10000),
     keyset_sha256 text NOT NULL,
     encryption_key text NOT NULL,
     asset text NOT NULL,
     budget u128 NOT NULL,
     claimed u128 NOT NULL,
     nonce u64 NOT NULL,
     voucher_signature text,
     status text NOT NULL CHECK (status IN ('open', 'closing', 'disputed', 'settled', 'resolved')),
     opened_at u64 NOT NULL,
     expires_at u64 NOT NULL,
     closed_by text CHECK (closed_by IN ('provider', 'client')),
     closing_at u64,
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
     settled_by text CHECK (settled_by IN ('counterparty', 'dispute_window', 'arbitration_timeout')),
     updated_height bigint NOT NULL
   )`,
  `CREATE INDEX sessions_client ON sessions (client, id)`,
  `CREATE INDEX sessions_payer ON sessions (payer, id)`,
  `CREATE INDEX sessions_provider ON sessions (provider, id)`,
  `CREATE INDEX sessions_machine ON sessions (machine_id, id)`,
  `CREATE INDEX sessions_status ON sessions (status, id)`,
  `CREATE TABLE session_history (
     receipt_id text NOT NULL,
     log_index integer NOT NULL,
     session_id u64 NOT NULL,
     block_height bigint NOT NULL,
     block_timestamp u64 NOT NULL,
     event text NOT NULL,
     status text NOT NULL,
     data jsonb NOT NULL,
     PRIMARY KEY (receipt_id, log_index),
     FOREIGN KEY (receipt_id, log_index) REFERENCES events (receipt_id, log_index)
   )`,
  `CREATE INDEX session_history_session ON session_history (session_id, block_height)`,
];

const DOWN = ["DROP TABLE session_history", "DROP TABLE sessions"];

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
