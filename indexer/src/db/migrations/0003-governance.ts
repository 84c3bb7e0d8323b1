/** The governance contract's tables: settings, token holders, delegation, proposals and votes, blobs, storage. */
import { type Kysely, sql } from "kysely";

const UP = [
  `CREATE TABLE governance_state (
     contract text PRIMARY KEY,
     config jsonb NOT NULL,
     metadata jsonb NOT NULL,
     total_supply u128 NOT NULL,
     contract_version integer NOT NULL,
     last_code_sha256 text,
     updated_height bigint NOT NULL
   )`,
  `CREATE TABLE token_holders (
     account_id text PRIMARY KEY,
     balance u128 NOT NULL,
     updated_height bigint NOT NULL
   )`,
  `CREATE INDEX token_holders_balance ON token_holders (balance DESC, account_id)`,
  `CREATE TABLE delegations (
     delegator text PRIMARY KEY,
     delegate text NOT NULL,
     updated_height bigint NOT NULL
   )`,
  `CREATE INDEX delegations_delegate ON delegations (delegate, delegator)`,
  `CREATE TABLE delegates (
     account_id text PRIMARY KEY,
     votes u128 NOT NULL,
     updated_height bigint NOT NULL
   )`,
  `CREATE TABLE proposals (
     id bigint PRIMARY KEY CHECK (id >= 0),
     proposer text NOT NULL,
     description text NOT NULL,
     actions jsonb NOT NULL,
     created_height bigint NOT NULL,
     snapshot_height bigint NOT NULL,
     vote_end_height bigint NOT NULL,
     quorum u128 NOT NULL,
     votes_for u128 NOT NULL,
     votes_against u128 NOT NULL,
     votes_abstain u128 NOT NULL,
     stage text NOT NULL CHECK (stage IN ('voting', 'queued', 'executing', 'executed', 'failed', 'canceled')),
     eta_height bigint,
     executed_actions integer NOT NULL,
     failure text,
     canceled_by text,
     updated_height bigint NOT NULL
   )`,
  `CREATE TABLE votes (
     proposal_id bigint NOT NULL REFERENCES proposals (id),
     voter text NOT NULL,
     support text NOT NULL CHECK (support IN ('for', 'against', 'abstain')),
     weight u128 NOT NULL,
     reason text NOT NULL,
     block_height bigint NOT NULL,
     PRIMARY KEY (proposal_id, voter)
   )`,
  `CREATE TABLE blobs (
     code_sha256 text PRIMARY KEY,
     code_hash text NOT NULL,
     size integer NOT NULL,
     payer text NOT NULL,
     stored_height bigint NOT NULL,
     proposals jsonb NOT NULL
   )`,
  `CREATE TABLE governance_storage (
     account_id text PRIMARY KEY,
     total u128 NOT NULL,
     available u128 NOT NULL,
     registered boolean NOT NULL,
     updated_height bigint NOT NULL
   )`,
];

const DOWN = [
  "DROP TABLE governance_storage",
  "DROP TABLE blobs",
  "DROP TABLE votes",
  "DROP TABLE proposals",
  "DROP TABLE delegates",
  "DROP TABLE delegations",
  "DROP TABLE token_holders",
  "DROP TABLE governance_state",
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
