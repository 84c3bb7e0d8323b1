/**
 * Confidential inference on jobs (escrow version 2): the keyset the input was encrypted to, the
 * delivery receipt's model and token counts, and the provider's failure code. Jobs of escrow
 * version 1 keep these null. Jobs by machine get an index (per-machine lists and throughput).
 */
import { type Kysely, sql } from "kysely";

const UP = [
  `ALTER TABLE jobs
     ADD COLUMN keyset_sha256 text,
     ADD COLUMN encryption_key text,
     ADD COLUMN model_name text,
     ADD COLUMN prompt_tokens u64,
     ADD COLUMN completion_tokens u64,
     ADD COLUMN chunks u64,
     ADD COLUMN failure_code text CHECK (failure_code IN
       ('model_unavailable', 'backend_unavailable', 'bad_request', 'capacity', 'inference_error'))`,
  `CREATE INDEX jobs_machine ON jobs (machine_id, id)`,
];

const DOWN = [
  "DROP INDEX jobs_machine",
  `ALTER TABLE jobs
     DROP COLUMN failure_code,
     DROP COLUMN chunks,
     DROP COLUMN completion_tokens,
     DROP COLUMN prompt_tokens,
     DROP COLUMN model_name,
     DROP COLUMN encryption_key,
     DROP COLUMN keyset_sha256`,
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
