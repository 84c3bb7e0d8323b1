/**
 * Machine keysets (registry state version 2): each machine's current X25519 encryption key, the
 * models it serves and the sha256 of its attested keyset, and the keyset each attestation
 * verified. Null (models: empty) for machines registered before keysets. A GIN index answers the
 * machines search by model name or weights hash (`models @> '[{"name": ...}]'`).
 */
import { type Kysely, sql } from "kysely";

const UP = [
  `ALTER TABLE machines
     ADD COLUMN encryption_key text,
     ADD COLUMN models jsonb NOT NULL DEFAULT '[]'::jsonb,
     ADD COLUMN keyset_sha256 text`,
  `CREATE INDEX machines_models ON machines USING gin (models jsonb_path_ops)`,
  `ALTER TABLE attestations ADD COLUMN keyset_sha256 text`,
];

const DOWN = [
  "ALTER TABLE attestations DROP COLUMN keyset_sha256",
  "DROP INDEX machines_models",
  `ALTER TABLE machines
     DROP COLUMN keyset_sha256,
     DROP COLUMN models,
     DROP COLUMN encryption_key`,
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
