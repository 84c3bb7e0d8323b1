/**
 * Escrow conservation at depth: RELIABILITY_OPS (default 10,000) random operations in NEAR and in
 * the token against a model the run keeps of every job, every session and what every account is
 * owed, computed from the operations alone.
 *
 * Jobs (about three quarters of the operations): create paid by attached NEAR, by ft_transfer_call
 * and from a prepaid balance; deposit, accept, deliver, fail, confirm, settle, dispute, resolve,
 * cancel, reclaim, withdraw, wrong callers, the machine losing and regaining eligibility, time
 * passing. Sessions (the rest): open with attached NEAR, through ft_transfer_call and from a
 * prepaid balance (refused above it; refunded while the machine is off); claim vouchers, good and
 * bad (replayed or stale nonce, over the budget, signed by another key, sent by the client); close
 * by the provider with or without a voucher, by the client before and after expiry, by a stranger;
 * dispute; resolve by the arbiter, late, over the budget, by someone else; settle by a stranger, the
 * side that closed and the side that did not, too early and after the windows. For each session
 * call the model decides, from the time of the block the escrow ran it in, whether the escrow must
 * take it or refuse it (and with which message); a refused call must log nothing and change nothing.
 *
 * After every operation, per asset: the escrow's books (escrowed, credited) equal the model's open
 * jobs and sessions and balances, and the escrow holds what its books say (exactly, for the
 * token); after a session operation, that session equals the model's. Every 100 operations: each
 * credited balance and the provider's exposure equal the model's. Every 1,000 operations and at the
 * end: every job's and every session's status and amounts equal the model's. The end prints how
 * many of each operation ran.
 *
 * The seed (RELIABILITY_SEED) picks the operations; it is printed first and on failure. Replaying
 * a seed repeats the same choices; outcomes that depend on block times (a deadline just passed)
 * may still differ. Run through `npm run reliability` (sandbox-tests/reliability/run.ts).
 */
import type { NearAccount, TransactionResult } from "near-workspaces";
import { afterAll, beforeAll, expect, test } from "vitest";
import { rpc } from "../src/rpc.ts";
import {
  allSessions,
  balanceOf,
  callOk,
  callRaw,
  deliverArgs,
  escrowBalance,
  eventsOf,
  failArgs,
  failureText,
  ftBalance,
  type JobView,
  jobFields,
  newSessionKey,
  ONE_NEAR,
  PRICE,
  pick,
  SECOND_NS,
  type SessionKey,
  type SessionView,
  seededRandom,
  sessionFields,
  sessionOf,
  setupWorld,
  TEST_PARAMS,
  TGAS,
  totalsOf,
  U64_MAX,
  USDC,
  voucher,
  type World,
  withdrawCall,
} from "../test/escrow/helpers.ts";

const OPS = Number(process.env.RELIABILITY_OPS ?? "10000");
const SEED = Number(process.env.RELIABILITY_SEED ?? String(Date.now() % 2 ** 31));
const FEE_BPS = 250n;
/**
 * Accept and deliver windows, and the dispute and arbitration windows: short enough that time
 * passing (3-7 s at a time) closes many of them, long enough for the calls a loaded localnet makes
 * in between (a few hundred milliseconds each) to reach delivery, disputes and rulings.
 */
const WINDOW_NS = 30n * SECOND_NS;
const DISPUTE_NS = 10n * SECOND_NS;
const GAS = 200n * TGAS;
const OPEN = new Set(["requested", "accepted", "delivered", "disputed"]);
const OPEN_SESSION = new Set(["open", "closing", "disputed"]);
/** The share of operations that are session operations. */
const SESSION_SHARE = 0.27;
const FAILURE_CODES = ["model_unavailable", "backend_unavailable", "bad_request", "capacity"];

type Call = Parameters<typeof callRaw>[2];

interface Outcome {
  failed: boolean;
  events: ReturnType<typeof eventsOf>;
  result: TransactionResult;
}

/** What a successful operation's events must show (see applyEvents). */
interface Expected {
  usage?: bigint;
  resolved?: bigint;
  fromBalance?: boolean;
  key?: SessionKey;
  voucher?: ModelVoucher;
  closedBy?: string;
}

interface ModelJob {
  id: string;
  asset: string;
  payer: string;
  provider: string;
  max: bigint;
  status: string;
  due: bigint | null;
}

interface ModelSession {
  id: string;
  asset: string;
  client: string;
  payer: string;
  provider: string;
  budget: bigint;
  claimed: bigint;
  nonce: bigint;
  status: string;
  closedBy: string | null;
  expiresAt: bigint;
  disputeDeadline: bigint | null;
  arbitrationDeadline: bigint | null;
  /** What the provider side was given of the budget, once settled or resolved. */
  paid: bigint | null;
  /** The client's session key: the run signs the session's vouchers as its client would. */
  key: SessionKey;
}

/** A voucher as the run signs it. */
interface ModelVoucher {
  amount: bigint;
  nonce: bigint;
  key: SessionKey;
}

/** A refusal the model expects: its name in the summary and the escrow's message. */
interface Refusal {
  why: string;
  message: RegExp;
}

/** A session operation done: its name, its outcome, and the session to compare afterwards. */
interface SessionStep {
  op: string;
  outcome: Outcome;
  expected: Expected;
  sessionId?: string;
}

let world: World;
let assets: string[];
let accounts: NearAccount[];
const jobs = new Map<string, ModelJob>();
const sessions = new Map<string, ModelSession>();
const owed = new Map<string, bigint>();
let machineActive = true;

beforeAll(async () => {
  world = await setupWorld({
    ...TEST_PARAMS,
    dispute_window_ns: DISPUTE_NS.toString(),
    arbitration_window_ns: DISPUTE_NS.toString(),
    min_session_ns: SECOND_NS.toString(),
  });
  assets = ["NEAR", world.usdc.accountId];
  accounts = [world.alice, world.bob, world.provider, world.treasury];
  await callOk(world.treasury, world.usdc, {
    method: "storage_deposit",
    args: {},
    deposit: 125n * 10n ** 19n,
  });
  // setupWorld's 5 NEAR of escrow storage lasts about 80 jobs and sessions a client: top up now,
  // not only at the first checkpoint.
  await topUp();
  console.log(`escrow conservation: seed ${SEED}, ${OPS} operations`);
}, 300_000);

afterAll(async () => {
  await world?.worker.tearDown();
});

const key = (account: string, asset: string) => `${account}:${asset}`;

function credit(account: string, asset: string, amount: bigint): void {
  owed.set(key(account, asset), (owed.get(key(account, asset)) ?? 0n) + amount);
}

/** How `paid` of `total` is split: the provider side less the fee, the fee, the rest back. */
function split(total: bigint, paid: bigint) {
  const fee = (paid * FEE_BPS) / 10_000n;
  return {
    provider_payout: (paid - fee).toString(),
    fee: fee.toString(),
    client_refund: (total - paid).toString(),
  };
}

/** Credits a close of a job or session (`what`) whose escrow was `total`, checking its event. */
function close(
  what: string,
  party: { asset: string; payer: string; provider: string },
  total: bigint,
  paid: bigint,
  event: Record<string, unknown>,
): void {
  const expected = split(total, paid);
  expect(event.provider_payout, `${what} payout`).toBe(expected.provider_payout);
  expect(event.fee, `${what} fee`).toBe(expected.fee);
  expect(event.client_refund, `${what} refund`).toBe(expected.client_refund);
  const fee = BigInt(expected.fee);
  credit(party.provider, party.asset, paid - fee);
  credit(world.treasury.accountId, party.asset, fee);
  credit(party.payer, party.asset, total - paid);
}

/**
 * Applies a successful operation's events to the model, each checked against what the model
 * expects of it (`expected`: what the operation asked for).
 */
function applyEvents(
  events: { event: string; data: Record<string, unknown>[] }[],
  expected: Expected,
): void {
  for (const { event, data } of events) {
    const record = data[0] ?? {};
    const id = String(record.id ?? record.job_id ?? "");
    if (event.startsWith("session_")) {
      applySessionEvent(event, id, record, expected);
      continue;
    }
    const job = jobs.get(id);
    switch (event) {
      case "job_created": {
        const created: ModelJob = {
          id,
          asset: String(record.asset),
          payer: String(record.payer),
          provider: String(record.provider),
          max: BigInt(String(record.max_amount)),
          status: "requested",
          due: null,
        };
        expect(jobs.has(id), `job ${id} created twice`).toBe(false);
        jobs.set(id, created);
        if (expected.fromBalance) credit(created.payer, created.asset, -created.max);
        break;
      }
      case "job_accepted":
      case "job_disputed":
        expect(job, `${event} of unknown job ${id}`).toBeDefined();
        (job as ModelJob).status = event === "job_accepted" ? "accepted" : "disputed";
        break;
      case "job_delivered": {
        const m = job as ModelJob;
        const usage = expected.usage as bigint;
        // min(max amount, usage x price), spelled out: Math.min takes no bigint.
        let due = usage * PRICE;
        if (due > m.max) due = m.max;
        expect(record.amount_due, `job ${id} amount due`).toBe(due.toString());
        m.status = "delivered";
        m.due = due;
        break;
      }
      case "job_settled": {
        const m = job as ModelJob;
        close(`job ${id}`, m, m.max, m.due ?? 0n, record);
        m.status = "settled";
        break;
      }
      case "dispute_resolved": {
        const m = job as ModelJob;
        close(`job ${id}`, m, m.max, expected.resolved as bigint, record);
        m.status = "resolved";
        break;
      }
      case "job_cancelled":
      case "job_reclaimed":
      case "job_failed": {
        const m = job as ModelJob;
        close(`job ${id}`, m, m.max, 0n, record);
        m.status = "refunded";
        break;
      }
      case "deposit":
        credit(String(record.account_id), String(record.asset), BigInt(String(record.deposited)));
        break;
      case "withdraw":
        credit(String(record.account_id), String(record.asset), -BigInt(String(record.withdrawn)));
        break;
      case "job_pending":
      case "job_rejected":
      case "withdraw_failed":
      case "approval_requested":
        // Pending: funds locked while the registry answers (job_created follows, or job_rejected
        // gives them back in the same transaction); a failed withdrawal restores the balance.
        break;
      default:
        throw new Error(`unexpected event ${event}`);
    }
  }
}

function applySessionEvent(
  event: string,
  id: string,
  record: Record<string, unknown>,
  expected: Expected,
): void {
  if (event === "session_pending" || event === "session_rejected") {
    // The budget is locked while the registry answers; session_opened follows, or
    // session_rejected gives it back, in the same transaction.
    return;
  }
  if (event === "session_opened") {
    const sessionKey = expected.key as SessionKey;
    expect(sessions.has(id), `session ${id} opened twice`).toBe(false);
    expect(record.client_key, `session ${id} key`).toBe(sessionKey.publicKey);
    expect([record.claimed, record.nonce], `session ${id} opened`).toEqual(["0", "0"]);
    const opened: ModelSession = {
      id,
      asset: String(record.asset),
      client: String(record.client),
      payer: String(record.payer),
      provider: String(record.provider),
      budget: BigInt(String(record.budget)),
      claimed: 0n,
      nonce: 0n,
      status: "open",
      closedBy: null,
      expiresAt: BigInt(String(record.expires_at)),
      disputeDeadline: null,
      arbitrationDeadline: null,
      paid: null,
      key: sessionKey,
    };
    sessions.set(id, opened);
    if (expected.fromBalance) credit(opened.payer, opened.asset, -opened.budget);
    return;
  }
  const session = sessions.get(id);
  expect(session, `${event} of unknown session ${id}`).toBeDefined();
  const s = session as ModelSession;
  switch (event) {
    case "session_claimed":
    case "session_closing":
      // A claim, or a close by the provider with a voucher, records that voucher.
      if (expected.voucher !== undefined) {
        s.claimed = expected.voucher.amount;
        s.nonce = expected.voucher.nonce;
      }
      expect([record.claimed, record.nonce], `session ${id} voucher`).toEqual([
        s.claimed.toString(),
        s.nonce.toString(),
      ]);
      if (event === "session_closing") {
        s.status = "closing";
        s.closedBy = expected.closedBy as string;
        s.disputeDeadline = BigInt(String(record.closing_at)) + DISPUTE_NS;
        expect(record.closed_by, `session ${id} closed by`).toBe(s.closedBy);
        expect(record.dispute_deadline, `session ${id} dispute deadline`).toBe(
          s.disputeDeadline.toString(),
        );
      }
      break;
    case "session_disputed":
      s.status = "disputed";
      s.arbitrationDeadline = BigInt(String(record.disputed_at)) + DISPUTE_NS;
      expect(record.arbitration_deadline, `session ${id} arbitration deadline`).toBe(
        s.arbitrationDeadline.toString(),
      );
      break;
    case "session_settled":
    case "session_resolved":
      // Settling pays the last claimed voucher; resolving, the arbiter's split.
      s.paid = event === "session_settled" ? s.claimed : (expected.resolved as bigint);
      close(`session ${id}`, s, s.budget, s.paid, record);
      s.status = event === "session_settled" ? "settled" : "resolved";
      break;
    default:
      throw new Error(`unexpected event ${event}`);
  }
}

function escrowedOf(asset: string): bigint {
  let sum = 0n;
  for (const job of jobs.values()) {
    if (job.asset === asset && OPEN.has(job.status)) sum += job.max;
  }
  for (const session of sessions.values()) {
    if (session.asset === asset && OPEN_SESSION.has(session.status)) sum += session.budget;
  }
  return sum;
}

function creditedOf(asset: string): bigint {
  let sum = 0n;
  for (const [k, v] of owed) if (k.endsWith(`:${asset}`)) sum += v;
  return sum;
}

/** The books against the model, and the escrow's holdings against the books. */
async function checkBooks(step: string): Promise<void> {
  const state = await world.escrow.accountView();
  for (const asset of assets) {
    const totals = await totalsOf(world, asset);
    const escrowed = escrowedOf(asset);
    const credited = creditedOf(asset);
    expect(BigInt(totals.escrowed), `${step}: escrowed ${asset}`).toBe(escrowed);
    expect(BigInt(totals.credited), `${step}: credited ${asset}`).toBe(credited);
    if (asset === "NEAR") {
      const free = BigInt(state.amount) - BigInt(state.storage_usage) * 10n ** 19n;
      expect(free >= escrowed + credited, `${step}: NEAR held ${free} < owed`).toBe(true);
    } else {
      expect(await ftBalance(world, world.escrow), `${step}: token held`).toBe(escrowed + credited);
    }
  }
}

async function checkBalances(step: string): Promise<void> {
  for (const asset of assets) {
    for (const account of accounts) {
      expect(
        await escrowBalance(world, account, asset),
        `${step}: ${account.accountId} ${asset}`,
      ).toBe(owed.get(key(account.accountId, asset)) ?? 0n);
    }
  }
  const exposure = (await world.escrow.view("provider_exposure", {
    account_id: world.provider.accountId,
  })) as { open_jobs: number };
  // Delivered or disputed jobs, and sessions from open to settled or resolved.
  const open =
    [...jobs.values()].filter((j) => j.status === "delivered" || j.status === "disputed").length +
    [...sessions.values()].filter((x) => OPEN_SESSION.has(x.status)).length;
  expect(exposure.open_jobs, `${step}: provider exposure`).toBe(open);
}

async function checkJobs(step: string): Promise<void> {
  const seen = new Map<string, JobView>();
  for (let from = 0; ; from += 50) {
    const page = (await world.escrow.view("jobs", { from_index: from, limit: 50 })) as JobView[];
    for (const job of page) seen.set(job.id, job);
    if (page.length < 50) break;
  }
  expect(seen.size, `${step}: jobs on chain`).toBe(jobs.size);
  for (const job of jobs.values()) {
    const chain = seen.get(job.id);
    expect(chain?.status, `${step}: job ${job.id} status`).toBe(job.status);
    expect(chain?.max_amount, `${step}: job ${job.id} max`).toBe(job.max.toString());
    if (job.due !== null)
      expect(chain?.amount_due, `${step}: job ${job.id} due`).toBe(job.due.toString());
  }
}

/** A session on chain against the model's: status, parties, amounts and, once closed, the split. */
function checkSession(chain: SessionView, step: string): void {
  const s = sessions.get(chain.id);
  expect(s, `${step}: session ${chain.id} unknown to the model`).toBeDefined();
  const m = s as ModelSession;
  const closed =
    m.paid === null
      ? { provider_payout: null, fee: null, client_refund: null }
      : split(m.budget, m.paid);
  expect(
    {
      status: chain.status,
      asset: chain.asset,
      payer: chain.payer,
      budget: chain.budget,
      claimed: chain.claimed,
      nonce: chain.nonce,
      closed_by: chain.closed_by,
      provider_payout: chain.provider_payout,
      fee: chain.fee,
      client_refund: chain.client_refund,
    },
    `${step}: session ${chain.id}`,
  ).toEqual({
    status: m.status,
    asset: m.asset,
    payer: m.payer,
    budget: m.budget.toString(),
    claimed: m.claimed.toString(),
    nonce: m.nonce.toString(),
    closed_by: m.closedBy,
    ...closed,
  });
}

async function checkSessions(step: string): Promise<void> {
  const onChain = await allSessions(world);
  expect(onChain.length, `${step}: sessions on chain`).toBe(sessions.size);
  for (const session of onChain) checkSession(session, step);
}

/**
 * Keeps the clients able to pay: NEAR for gas (300 Tgas reserves ~50 NEAR up front) and jobs,
 * escrow storage (each job consumes 0.06 NEAR of it, each session 0.05), tokens for token jobs
 * and sessions.
 */
async function topUp(): Promise<void> {
  for (const account of [world.alice, world.bob, world.provider]) {
    if ((await balanceOf(account)) < 80n * ONE_NEAR) {
      await world.root.transfer(account, 200n * ONE_NEAR);
    }
  }
  for (const account of [world.alice, world.bob]) {
    const storage = (await world.escrow.view("storage_balance_of", {
      account_id: account.accountId,
    })) as { available: string };
    if (BigInt(storage.available) < 20n * ONE_NEAR) {
      await callOk(account, world.escrow, {
        method: "storage_deposit",
        args: {},
        deposit: 40n * ONE_NEAR,
      });
    }
  }
  for (const account of [world.alice, world.bob]) {
    if ((await ftBalance(world, account)) < 1_000n * USDC) {
      await callOk(world.usdc, world.usdc, {
        method: "mint",
        args: { account_id: account.accountId, amount: (10_000n * USDC).toString() },
      });
    }
  }
}

async function send(caller: NearAccount, call: Call): Promise<Outcome> {
  const target = call.method === "ft_transfer_call" ? world.usdc : world.escrow;
  const result = await callRaw(caller, target, call);
  const events = eventsOf(result).filter((e) => e.standard === "gpumarket");
  return { failed: result.failed, events, result };
}

/** The timestamp of the block the escrow ran the call in: the time its deadline checks saw. */
async function executedAt(outcome: Outcome): Promise<bigint> {
  const receipts = outcome.result.result.receipts_outcome as {
    block_hash: string;
    outcome: { executor_id: string };
  }[];
  const receipt = receipts.find((r) => r.outcome.executor_id === world.escrow.accountId);
  expect(receipt, "no receipt ran on the escrow").toBeDefined();
  const block = await rpc<{ header: { timestamp_nanosec: string } }>(world.worker, "block", {
    block_id: receipt?.block_hash,
  });
  return BigInt(block.header.timestamp_nanosec);
}

const byStatus = (...statuses: string[]) =>
  [...jobs.values()].filter((j) => statuses.includes(j.status));

const sessionsIn = (...statuses: string[]) =>
  [...sessions.values()].filter((x) => statuses.includes(x.status));

/** The session with the latest `deadline`. */
function latest(
  items: ModelSession[],
  deadline: (s: ModelSession) => bigint | null,
): ModelSession | undefined {
  let best: ModelSession | undefined;
  for (const s of items) {
    if (best === undefined || (deadline(s) ?? 0n) > (deadline(best) ?? 0n)) best = s;
  }
  return best;
}

// The escrow's session rules, as the README states them: why a call must be refused at block
// time `at`, or null when it must be taken. Checks come in the contract's order.

const isClientSide = (s: ModelSession, account: string) =>
  account === s.client || account === s.payer;

const WRONG_CALLER: Refusal = { why: "wrong caller", message: /may do this|may close it/ };

function voucherRefusal(s: ModelSession, v: ModelVoucher): Refusal | null {
  if (v.nonce <= s.nonce) {
    const why = v.nonce === s.nonce ? "replayed nonce" : "stale nonce";
    return { why, message: /is not above .* a voucher counts once/ };
  }
  if (v.amount > s.budget) return { why: "over budget", message: /is over session \d+'s budget/ };
  if (v.key !== s.key) return { why: "wrong key", message: /not a signature by session \d+'s/ };
  return null;
}

function claimRefusal(s: ModelSession, caller: string, v: ModelVoucher, at: bigint) {
  if (caller !== s.provider) return WRONG_CALLER;
  if (s.status === "closing" && at > (s.disputeDeadline ?? 0n)) {
    return { why: "after the dispute window", message: /the dispute window closed/ };
  }
  return voucherRefusal(s, v);
}

function closeRefusal(s: ModelSession, caller: string, v: ModelVoucher | null, at: bigint) {
  if (caller === s.provider) return v === null ? null : voucherRefusal(s, v);
  if (!isClientSide(s, caller)) return WRONG_CALLER;
  if (at <= s.expiresAt) {
    return { why: "before expiry", message: /before that only the provider closes it/ };
  }
  return null;
}

function settleRefusal(s: ModelSession, caller: string, at: bigint): Refusal | null {
  if (s.status === "disputed") {
    if (at > (s.arbitrationDeadline ?? 0n)) return null;
    return { why: "before the arbitration deadline", message: /the arbiter has until/ };
  }
  if (at > (s.disputeDeadline ?? 0n)) return null;
  // Before the deadline only the side that did not close settles (accepting).
  const counterparty = s.closedBy === "provider" ? isClientSide(s, caller) : caller === s.provider;
  return counterparty ? null : { why: "too early", message: /the dispute window is open until/ };
}

function disputeRefusal(s: ModelSession, caller: string, at: bigint): Refusal | null {
  if (!isClientSide(s, caller)) return WRONG_CALLER;
  if (at > (s.disputeDeadline ?? 0n)) {
    return { why: "after the dispute window", message: /the dispute window closed/ };
  }
  return null;
}

function resolveRefusal(s: ModelSession, caller: string, amount: bigint, at: bigint) {
  if (caller !== world.arbiter.accountId) return WRONG_CALLER;
  if (at > (s.arbitrationDeadline ?? 0n)) {
    return { why: "late", message: /the arbitration window closed/ };
  }
  if (amount > s.budget) {
    return { why: "over budget", message: /is more than session \d+'s budget/ };
  }
  return null;
}

/** The escrow took the call, or refused it for the reason the model expects. */
function judged(
  op: string,
  outcome: Outcome,
  refusal: Refusal | null,
  expected: Expected,
  sessionId?: string,
): SessionStep {
  if (refusal === null) {
    expect(outcome.failed, `${op}: ${failureText(outcome.result)}`).toBe(false);
    return { op, outcome, expected, sessionId };
  }
  expect(outcome.failed, `${op} should be refused: ${refusal.why}`).toBe(true);
  expect(failureText(outcome.result), `${op} refused: ${refusal.why}`).toMatch(refusal.message);
  return { op: `${op} refused: ${refusal.why}`, outcome, expected, sessionId };
}

type VoucherKind = "good" | "replay" | "over budget" | "wrong key";

/** A voucher for `s`: good (a higher nonce, within the budget, by its key), or bad in one way. */
function makeVoucher(rng: () => number, s: ModelSession, kind: VoucherKind): ModelVoucher {
  const back = s.nonce < 3n ? s.nonce : 3n;
  const nonce =
    kind === "replay"
      ? s.nonce - BigInt(Math.floor(rng() * Number(back + 1n)))
      : s.nonce + 1n + BigInt(Math.floor(rng() * 3));
  const amount =
    kind === "over budget"
      ? s.budget + 1n + BigInt(Math.floor(rng() * 1000))
      : (s.budget * BigInt(Math.floor(rng() * 101))) / 100n;
  return { amount, nonce, key: kind === "wrong key" ? newSessionKey() : s.key };
}

const signed = (s: ModelSession, v: ModelVoucher) => voucher(world, s.id, v.key, v.amount, v.nonce);

const BAD_VOUCHERS: VoucherKind[] = ["replay", "over budget", "wrong key"];

async function openSessionStep(rng: () => number): Promise<SessionStep> {
  const client = rng() < 0.5 ? world.alice : world.bob;
  const sessionKey = newSessionKey();
  const fields = sessionFields(world.machine, sessionKey, {
    expires_within_ns: (BigInt(2 + Math.floor(rng() * 10)) * SECOND_NS).toString(),
  });
  const expected: Expected = { key: sessionKey };
  const how = rng();
  let op: string;
  let outcome: Outcome;
  let refusal: Refusal | null = null;
  if (how < 0.45) {
    op = "open session in NEAR";
    const budget = BigInt(1 + Math.floor(rng() * 3)) * 10n ** 22n;
    outcome = await send(client, {
      method: "open_session",
      args: fields,
      deposit: budget,
      gas: GAS,
    });
  } else if (how < 0.85) {
    op = "open session in token";
    const budget = BigInt(1 + Math.floor(rng() * 50)) * USDC;
    outcome = await send(client, {
      method: "ft_transfer_call",
      args: {
        receiver_id: world.escrow.accountId,
        amount: budget.toString(),
        msg: JSON.stringify({ action: "open_session", session: fields }),
      },
      deposit: 1n,
      gas: 300n * TGAS,
    });
  } else {
    op = "open session from balance";
    const budget = BigInt(1 + Math.floor(rng() * 8)) * 10n ** 22n;
    expected.fromBalance = true;
    outcome = await send(client, {
      method: "open_session",
      args: { ...fields, asset: "NEAR", budget: budget.toString() },
      gas: GAS,
    });
    if ((owed.get(key(client.accountId, "NEAR")) ?? 0n) < budget) {
      refusal = { why: "over the balance", message: /credited, less than the \d+ needed/ };
    }
  }
  const opened = outcome.events.find((e) => e.event === "session_opened")?.data[0]?.id;
  if (refusal === null && !outcome.failed) {
    // The registry decides: opened while the machine is eligible, refunded while it is not.
    const names = outcome.events.map((e) => e.event);
    expect(names, `${op}: events`).toContain(machineActive ? "session_opened" : "session_rejected");
    if (!machineActive) op = `${op} rejected: machine off`;
  }
  return judged(op, outcome, refusal, expected, opened === undefined ? undefined : String(opened));
}

/**
 * One random session operation, or null when there was no session to do it to. Every call is
 * judged by the model's rules at the time the escrow ran it.
 */
async function sessionStep(rng: () => number): Promise<SessionStep | null> {
  const { provider, arbiter, gov } = world;
  const account = (id: string) => world.root.getAccount(id);
  const roll = rng();
  if (roll < 0.18 || sessions.size < 2) return openSessionStep(rng);
  if (roll < 0.45) {
    // Claims: most good; the rest a replayed or stale nonce, over the budget, signed by another
    // key, or a good voucher sent by the client.
    const s = pick(rng, sessionsIn("open", "closing"));
    if (s === undefined) return null;
    const bad = rng() < 0.4;
    const byClient = bad && rng() < 0.25;
    const kind = bad && !byClient ? (pick(rng, BAD_VOUCHERS) ?? "replay") : "good";
    const v = makeVoucher(rng, s, kind);
    const caller = byClient ? account(s.client) : provider;
    const outcome = await send(caller, {
      method: "claim_session",
      args: { session_id: s.id, ...signed(s, v) },
    });
    const refusal = claimRefusal(s, caller.accountId, v, await executedAt(outcome));
    return judged("claim", outcome, refusal, { voucher: v }, s.id);
  }
  if (roll < 0.65) {
    // Closes: the provider (with its best voucher half the time, a bad one now and then), the
    // client (before or after expiry), a stranger.
    const s = pick(rng, sessionsIn("open"));
    if (s === undefined) return null;
    const who = rng();
    const caller = who < 0.6 ? provider : who < 0.95 ? account(s.payer) : gov;
    const byProvider = caller.accountId === s.provider;
    const v =
      byProvider && rng() < 0.5
        ? makeVoucher(rng, s, rng() < 0.8 ? "good" : (pick(rng, BAD_VOUCHERS) ?? "replay"))
        : null;
    const outcome = await send(caller, {
      method: "close_session",
      args: { session_id: s.id, ...(v === null ? {} : { voucher: signed(s, v) }) },
    });
    const refusal = closeRefusal(s, caller.accountId, v, await executedAt(outcome));
    const op = v === null ? "close session" : "close session with voucher";
    const expected: Expected = { closedBy: byProvider ? "provider" : "client" };
    if (v !== null) expected.voucher = v;
    return judged(op, outcome, refusal, expected, s.id);
  }
  if (roll < 0.73) {
    // Half the time the session closed last, which is most likely still in its window.
    const closing = sessionsIn("closing");
    const s = rng() < 0.5 ? latest(closing, (x) => x.disputeDeadline) : pick(rng, closing);
    if (s === undefined) return null;
    const caller = rng() < 0.85 ? account(s.payer) : provider;
    const outcome = await send(caller, {
      method: "dispute_session",
      args: { session_id: s.id, reason: "random" },
    });
    const refusal = disputeRefusal(s, caller.accountId, await executedAt(outcome));
    return judged("dispute session", outcome, refusal, {}, s.id);
  }
  if (roll < 0.8) {
    const disputed = sessionsIn("disputed");
    const s = rng() < 0.5 ? latest(disputed, (x) => x.arbitrationDeadline) : pick(rng, disputed);
    if (s === undefined) return null;
    const caller = rng() < 0.85 ? arbiter : world.bob;
    const paid = rng() < 0.1 ? s.budget + 1n : (s.budget * BigInt(Math.floor(rng() * 101))) / 100n;
    const outcome = await send(caller, {
      method: "resolve_session",
      args: { session_id: s.id, provider_amount: paid.toString() },
    });
    const refusal = resolveRefusal(s, caller.accountId, paid, await executedAt(outcome));
    return judged("resolve session", outcome, refusal, { resolved: paid }, s.id);
  }
  // Settles: a stranger, the side that did not close, or the side that did.
  const s = pick(rng, sessionsIn("closing", "disputed"));
  if (s === undefined) return null;
  const who = rng();
  const closer = s.closedBy === "provider" ? s.provider : s.payer;
  const other = s.closedBy === "provider" ? s.payer : s.provider;
  const caller = who < 0.4 ? gov : account(who < 0.7 ? other : closer);
  const outcome = await send(caller, {
    method: "settle_session",
    args: { session_id: s.id },
  });
  const refusal = settleRefusal(s, caller.accountId, await executedAt(outcome));
  return judged("settle session", outcome, refusal, {}, s.id);
}

test(
  `${OPS} random operations keep the escrow's books and every balance exact`,
  async () => {
    const rng = seededRandom(SEED);
    const { escrow, provider, arbiter, alice, bob, registry } = world;
    const counts = new Map<string, number>();
    const started = performance.now();
    let step = 0;
    let op = "";
    const summary = () => {
      const seconds = (performance.now() - started) / 1000;
      const closedJobs = [...jobs.values()].filter((j) => !OPEN.has(j.status)).length;
      const closedSessions = [...sessions.values()].filter(
        (x) => !OPEN_SESSION.has(x.status),
      ).length;
      return [
        `escrow conservation: seed ${SEED}, ${step} of ${OPS} operations in ${seconds.toFixed(0)} s, ` +
          `${jobs.size} jobs (${closedJobs} closed), ${sessions.size} sessions (${closedSessions} closed)`,
        ...[...counts.entries()].sort().map(([name, n]) => `  ${name}: ${n}`),
      ].join("\n");
    };
    try {
      for (; step < OPS; step++) {
        let outcome: Outcome | null = null;
        let expected: Expected = {};
        let sessionId: string | undefined;
        if (rng() < SESSION_SHARE) {
          const done = await sessionStep(rng);
          if (done === null) continue;
          ({ op, outcome, expected, sessionId } = done);
        } else {
          const roll = rng();
          const client = rng() < 0.5 ? alice : bob;
          const windows = {
            accept_within_ns: WINDOW_NS.toString(),
            deliver_within_ns: WINDOW_NS.toString(),
          };
          if (roll < 0.1 || jobs.size < 3) {
            op = "create in NEAR";
            const amount = BigInt(1 + Math.floor(rng() * 3)) * 10n ** 22n;
            outcome = await send(client, {
              method: "create_job",
              args: jobFields(world.machine, windows),
              deposit: amount,
              gas: GAS,
            });
          } else if (roll < 0.18) {
            op = "create in token";
            const amount = BigInt(1 + Math.floor(rng() * 50)) * USDC;
            outcome = await send(client, {
              method: "ft_transfer_call",
              args: {
                receiver_id: escrow.accountId,
                amount: amount.toString(),
                msg: JSON.stringify({
                  action: "create_job",
                  job: jobFields(world.machine, windows),
                }),
              },
              deposit: 1n,
              gas: 300n * TGAS,
            });
          } else if (roll < 0.21) {
            op = "deposit";
            outcome = await send(client, { method: "deposit", args: {}, deposit: 5n * 10n ** 22n });
          } else if (roll < 0.25) {
            op = "create from balance";
            expected = { fromBalance: true };
            outcome = await send(client, {
              method: "create_job",
              args: {
                ...jobFields(world.machine, windows),
                asset: "NEAR",
                max_amount: (2n * 10n ** 22n).toString(),
              },
              gas: GAS,
            });
          } else if (roll < 0.39) {
            const job = pick(rng, byStatus("requested"));
            if (job === undefined) continue;
            op = "accept";
            outcome = await send(provider, {
              method: "accept_job",
              args: { job_id: job.id },
              gas: GAS,
            });
          } else if (roll < 0.52) {
            const job = pick(rng, byStatus("accepted"));
            if (job === undefined) continue;
            op = "deliver";
            const maxUnits = job.max / PRICE;
            const usage =
              rng() < 0.2
                ? maxUnits * 2n > 2n * U64_MAX
                  ? 2n * U64_MAX
                  : maxUnits * 2n
                : BigInt(Math.floor(rng() * Number(maxUnits > 10n ** 15n ? 10n ** 15n : maxUnits)));
            expected = { usage };
            outcome = await send(provider, {
              method: "deliver_job",
              args: deliverArgs(world, job.id, usage),
              gas: GAS,
            });
          } else if (roll < 0.6) {
            const job = pick(rng, byStatus("delivered"));
            if (job === undefined) continue;
            if (rng() < 0.6) {
              op = "confirm or settle";
              const payer = world.root.getAccount(job.payer);
              const caller = rng() < 0.5 ? payer : bob;
              const method = caller.accountId === job.payer ? "confirm_job" : "settle_job";
              outcome = await send(caller, { method, args: { job_id: job.id } });
            } else {
              op = "dispute";
              outcome = await send(world.root.getAccount(job.payer), {
                method: "dispute_job",
                args: { job_id: job.id, reason: "random" },
              });
            }
          } else if (roll < 0.65) {
            const job = pick(rng, byStatus("disputed"));
            if (job === undefined) continue;
            op = "resolve";
            const paid = (job.max * BigInt(Math.floor(rng() * 101))) / 100n;
            expected = { resolved: paid };
            outcome = await send(arbiter, {
              method: "resolve_dispute",
              args: { job_id: job.id, provider_amount: paid.toString() },
            });
          } else if (roll < 0.71) {
            const job = pick(rng, byStatus("requested", "accepted"));
            if (job === undefined) continue;
            op = job.status === "requested" && rng() < 0.5 ? "cancel" : "reclaim";
            outcome = await send(world.root.getAccount(job.payer), {
              method: op === "cancel" ? "cancel_job" : "reclaim_job",
              args: { job_id: job.id },
              gas: GAS,
            });
          } else if (roll < 0.75) {
            const job = pick(rng, byStatus("requested", "accepted"));
            if (job === undefined) continue;
            op = "fail";
            const code = pick(rng, FAILURE_CODES) ?? "capacity";
            outcome = await send(provider, {
              method: "fail_job",
              args: failArgs(world, job.id, code),
            });
            expect(outcome.failed, `fail_job ${job.id}`).toBe(false);
          } else if (roll < 0.82) {
            op = "withdraw";
            const account = pick(rng, accounts) ?? alice;
            const asset = pick(rng, assets) ?? "NEAR";
            if ((owed.get(key(account.accountId, asset)) ?? 0n) === 0n) continue;
            outcome = await send(account, withdrawCall(asset));
            expect(outcome.failed, `withdraw by ${account.accountId}`).toBe(false);
          } else if (roll < 0.86) {
            op = "wrong caller";
            const job = pick(rng, [...jobs.values()]);
            if (job === undefined) continue;
            const method =
              pick(rng, [
                "accept_job",
                "cancel_job",
                "confirm_job",
                "resolve_dispute",
                "fail_job",
              ]) ?? "accept_job";
            const extra =
              method === "resolve_dispute"
                ? { provider_amount: "0" }
                : method === "fail_job"
                  ? failArgs(world, job.id)
                  : {};
            outcome = await send(world.gov, {
              method,
              args: { job_id: job.id, ...extra },
              gas: GAS,
            });
            expect(outcome.failed, `${method} by the owner`).toBe(true);
          } else if (roll < 0.9 && (!machineActive || roll < 0.865)) {
            // Off now and then (its jobs cannot be accepted or delivered, and are reclaimed; its
            // sessions cannot open); on again soon after.
            op = machineActive ? "machine off" : "machine on";
            await callOk(provider, registry, {
              method: machineActive ? "deactivate_machine" : "reactivate_machine",
              args: { machine_id: world.machine.id },
              deposit: ONE_NEAR / 100n,
            });
            machineActive = !machineActive;
          } else {
            op = "time passes";
            await world.worker.provider.fastForward(3 + Math.floor(rng() * 5));
            const job = pick(rng, byStatus("delivered", "disputed"));
            if (job !== undefined) {
              outcome = await send(bob, { method: "settle_job", args: { job_id: job.id } });
            }
          }
        }
        if (outcome !== null) {
          if (outcome.failed) {
            expect(outcome.events, `${op} failed, yet logged events`).toEqual([]);
          } else {
            applyEvents(outcome.events, expected);
          }
        }
        counts.set(op, (counts.get(op) ?? 0) + 1);
        await checkBooks(`step ${step} (${op})`);
        // Refused or taken, the session is now what the model says.
        if (sessionId !== undefined) {
          checkSession(await sessionOf(world, sessionId), `step ${step} (${op})`);
        }
        if (step % 100 === 99) await checkBalances(`step ${step} (${op})`);
        if (step % 1000 === 999) {
          await checkJobs(`step ${step}`);
          await checkSessions(`step ${step}`);
          await topUp();
          const seconds = (performance.now() - started) / 1000;
          console.log(
            `step ${step + 1}: ${jobs.size} jobs, ${sessions.size} sessions, ${seconds.toFixed(0)} s`,
          );
        }
      }
      await checkBalances("end");
      await checkJobs("end");
      await checkSessions("end");
    } catch (error) {
      console.error(
        `escrow conservation failed at step ${step} (${op}); replay with --seed ${SEED} --ops ${step + 1}`,
      );
      console.error(summary());
      throw error;
    }
    console.log(summary());
    // The run exercised the paths it is meant to; a short one (a replay) need not reach them all.
    if (OPS < 1000) return;
    for (const name of [
      "create in NEAR",
      "create in token",
      "create from balance",
      "accept",
      "deliver",
      "confirm or settle",
      "dispute",
      "resolve",
      "fail",
      "withdraw",
      "reclaim",
      "machine off",
      "open session in NEAR",
      "open session in token",
      "open session from balance",
      "claim",
      "claim refused: replayed nonce",
      "claim refused: over budget",
      "claim refused: wrong key",
      "claim refused: wrong caller",
      "close session",
      "close session with voucher",
      "close session refused: before expiry",
      "dispute session",
      "resolve session",
      "settle session",
      "settle session refused: too early",
    ]) {
      expect(counts.get(name) ?? 0, name).toBeGreaterThan(0);
    }
  },
  24 * 3_600_000,
);
