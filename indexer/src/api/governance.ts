/**
 * Proposals (with their status at the indexed height, computed as the contract's statusOf in
 * contracts/governance proposal-store.ts), their votes, and token holders with delegation.
 */
import { type Kysely, type RawBuilder, sql } from "kysely";
import type { Database } from "../db/schema.ts";
import { asOf } from "./as-of.ts";
import { paginate, type Query, QueryError } from "./params.ts";

const STATUSES = [
  "pending",
  "active",
  "defeated",
  "succeeded",
  "queued",
  "executing",
  "executed",
  "failed",
  "canceled",
  "expired",
] as const;

/** The proposal's status at height `h` (grace from the governance config). */
function statusAt(h: number): RawBuilder<string> {
  const grace = sql`coalesce((SELECT (config->>'grace_period_blocks')::bigint FROM governance_state LIMIT 1), 0)`;
  return sql<string>`CASE
    WHEN pr.stage IN ('canceled', 'executed', 'executing') THEN pr.stage
    WHEN pr.stage IN ('queued', 'failed') THEN
      CASE WHEN ${h} > coalesce(pr.eta_height, pr.vote_end_height) + ${grace} THEN 'expired' ELSE pr.stage END
    WHEN ${h} <= pr.snapshot_height THEN 'pending'
    WHEN ${h} <= pr.vote_end_height THEN 'active'
    WHEN NOT (pr.votes_for + pr.votes_abstain >= pr.quorum AND pr.votes_for > pr.votes_against) THEN 'defeated'
    WHEN ${h} > coalesce(pr.eta_height, pr.vote_end_height) + ${grace} THEN 'expired'
    ELSE 'succeeded' END`;
}

function proposalQuery(db: Kysely<Database>, height: number) {
  return db.selectFrom("proposals as pr").selectAll("pr").select(statusAt(height).as("status"));
}

function u64Id(value: string, what: string): string {
  if (!/^\d{1,15}$/.test(value)) {
    throw new QueryError(
      `${what}: must be a proposal id (a non-negative integer), got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

/** Newest first. */
export async function listProposals(db: Kysely<Database>, query: Query) {
  const status = query.oneOf("status", STATUSES);
  const proposer = query.accountId("proposer");
  const limit = query.limit();
  const cursor = query.cursor(1);
  query.done();
  const at = await asOf(db);
  let q = proposalQuery(db, at.block_height ?? 0);
  if (status !== undefined) q = q.where(statusAt(at.block_height ?? 0), "=", status);
  if (proposer !== undefined) q = q.where("pr.proposer", "=", proposer);
  if (cursor !== undefined) q = q.where("pr.id", "<", u64Id(cursor[0] as string, "cursor"));
  const rows = await q
    .orderBy("pr.id", "desc")
    .limit(limit + 1)
    .execute();
  return { ...paginate(rows, limit, (last) => [last.id]), as_of: at };
}

/** One proposal with its votes (at most the first 1000 voters; all via /votes). */
export async function getProposal(db: Kysely<Database>, id: string, query: Query) {
  query.done();
  const at = await asOf(db);
  const proposal = await proposalQuery(db, at.block_height ?? 0)
    .where("pr.id", "=", u64Id(id, "proposal id"))
    .executeTakeFirst();
  if (proposal === undefined) return null;
  const votes = await db
    .selectFrom("votes")
    .select(["voter", "support", "weight", "reason", "block_height"])
    .where("proposal_id", "=", id)
    .orderBy("block_height")
    .orderBy("voter")
    .limit(1000)
    .execute();
  return { data: { ...proposal, votes }, as_of: at };
}

export async function listVotes(db: Kysely<Database>, id: string, query: Query) {
  const support = query.oneOf("support", ["for", "against", "abstain"]);
  const limit = query.limit();
  const cursor = query.cursor(1);
  query.done();
  let q = db
    .selectFrom("votes")
    .select(["voter", "support", "weight", "reason", "block_height"])
    .where("proposal_id", "=", u64Id(id, "proposal id"));
  if (support !== undefined) q = q.where("support", "=", support);
  if (cursor !== undefined) q = q.where("voter", ">", cursor[0] as string);
  const rows = await q
    .orderBy("voter")
    .limit(limit + 1)
    .execute();
  return { ...paginate(rows, limit, (last) => [last.voter]), as_of: await asOf(db) };
}

/** Largest balance first (ties by account), with each holder's delegate and voting power. */
export async function listHolders(db: Kysely<Database>, query: Query) {
  const limit = query.limit();
  const cursor = query.cursor(2);
  query.done();
  if (cursor !== undefined && !/^\d{1,39}$/.test(cursor[0] as string)) {
    throw new QueryError("cursor: not a cursor returned by this endpoint with these parameters");
  }
  let q = db
    .selectFrom("token_holders as h")
    .leftJoin("delegations as d", "d.delegator", "h.account_id")
    .leftJoin("delegates as v", "v.account_id", "h.account_id")
    .select([
      "h.account_id",
      "h.balance",
      "d.delegate",
      sql<string>`coalesce(v.votes, 0)`.as("votes"),
    ]);
  if (cursor !== undefined) {
    const [balance, account] = cursor as [string, string];
    q = q.where(
      sql<boolean>`(h.balance < ${balance}::numeric OR (h.balance = ${balance}::numeric AND h.account_id > ${account}))`,
    );
  }
  const rows = await q
    .orderBy("h.balance", "desc")
    .orderBy("h.account_id")
    .limit(limit + 1)
    .execute();
  return {
    ...paginate(rows, limit, (last) => [last.balance, last.account_id]),
    as_of: await asOf(db),
  };
}
