/**
 * The escrow calls of a job's life as the client makes them: storage for the job record, create_job
 * in each way it can be paid (reading the job id from the job_created event, or the refusal from
 * job_rejected), the job view, confirm, dispute, reclaim and withdraw; and a session's: open_session
 * (session_opened or session_rejected), the session view, close, settle and dispute.
 */
import type { Job, Session, StorageBalance } from "@gpu-market/common/src/escrow-types.ts";
import type { CallOutcome, MarketChain, MarketEvent } from "./chain.ts";
import { TGAS } from "./chain.ts";
import { clientError } from "./errors.ts";
import type { Payment } from "./types.ts";

/**
 * What a job's record takes from the payer's escrow storage balance: the escrow's
 * STORAGE_BYTES.job (6000 bytes) at NEAR's storage price (1e19 yoctoNEAR a byte).
 */
export const JOB_STORAGE_FEE = 6000n * 10n ** 19n;
/** Added to the storage balance when it cannot pay for one more job: room for a few jobs. */
export const STORAGE_TOP_UP = 3n * JOB_STORAGE_FEE;
/** create_job's gas: the registry's eligibility call and the callback need 100 Tgas. */
const CREATE_GAS = 200n * TGAS;

export interface JobFields {
  machine_id: string;
  model_hash: string;
  input_hash: string;
  keyset_sha256: string;
  accept_within_ns: string;
  deliver_within_ns: string;
  max_price_per_unit?: string;
}

export interface CreatedJob {
  job: Job;
  txHash: string;
}

export async function getJob(chain: MarketChain, escrow: string, jobId: string): Promise<Job> {
  const job = await chain.view<Job | null>(escrow, "job", { job_id: jobId });
  if (job === null) {
    clientError("rpc_error", `job ${jobId} does not exist on ${escrow}`, { jobId });
  }
  return job;
}

/**
 * Tops up the payer's escrow storage balance when it cannot pay for a job (or a session: its
 * record is smaller); returns the tx hash.
 */
export async function ensureJobStorage(chain: MarketChain, escrow: string): Promise<string | null> {
  const balance = await chain.view<StorageBalance | null>(escrow, "storage_balance_of", {
    account_id: chain.accountId,
  });
  if (balance !== null && BigInt(balance.available) >= JOB_STORAGE_FEE) return null;
  const outcome = await chain.call(escrow, "storage_deposit", {}, { deposit: STORAGE_TOP_UP });
  return outcome.txHash;
}

function jobFromEvents(outcome: CallOutcome<unknown>): Job {
  const events: MarketEvent[] = outcome.events;
  const created = events.find((e) => e.event === "job_created");
  if (created !== undefined) return created.data[0] as Job;
  const rejected = events.find((e) => e.event === "job_rejected");
  if (rejected !== undefined) {
    const data = rejected.data[0] as { reason: string; refunded_to: string };
    clientError(
      "job_rejected",
      `the escrow refused the job: ${data.reason} (the amount went back to ${data.refunded_to})`,
      { txHash: outcome.txHash, refunded: true },
    );
  }
  const failure = outcome.failures[0];
  return clientError(
    "transaction_failed",
    failure === undefined
      ? "create_job logged neither job_created nor job_rejected"
      : `the job was not created: ${failure}`,
    { txHash: outcome.txHash },
  );
}

export async function createJob(
  chain: MarketChain,
  escrow: string,
  fields: JobFields,
  maxAmount: bigint,
  payment: Payment,
): Promise<CreatedJob> {
  let outcome: CallOutcome<unknown>;
  const args = { ...fields };
  switch (payment.from) {
    case "attached":
      outcome = await chain.call(escrow, "create_job", args, {
        deposit: maxAmount,
        gas: CREATE_GAS,
        // The eligibility callback refunds a refused job and reports it in job_rejected.
        handlesReceiptFailures: true,
      });
      break;
    case "balance":
      outcome = await chain.call(
        escrow,
        "create_job",
        { ...args, asset: payment.asset ?? "NEAR", max_amount: maxAmount.toString() },
        { gas: CREATE_GAS, handlesReceiptFailures: true },
      );
      break;
    case "token":
      outcome = await chain.call(
        payment.token,
        "ft_transfer_call",
        {
          receiver_id: escrow,
          amount: maxAmount.toString(),
          msg: JSON.stringify({ action: "create_job", job: args }),
        },
        { deposit: 1n, gas: CREATE_GAS, handlesReceiptFailures: true },
      );
      break;
  }
  return { job: jobFromEvents(outcome), txHash: outcome.txHash };
}

export async function jobAction(
  chain: MarketChain,
  escrow: string,
  method: "confirm_job" | "dispute_job" | "reclaim_job" | "cancel_job",
  jobId: string,
  reason?: string,
): Promise<CallOutcome<Job>> {
  const args: Record<string, unknown> = { job_id: jobId };
  if (reason !== undefined) args.reason = reason;
  return chain.call<Job>(escrow, method, args);
}

export async function balanceOf(
  chain: MarketChain,
  escrow: string,
  accountId: string,
  asset: string,
): Promise<bigint> {
  return BigInt(await chain.view<string>(escrow, "balance_of", { account_id: accountId, asset }));
}

/** Withdraws `amount` (default all) of the caller's credited balance in `asset`. */
export async function withdraw(
  chain: MarketChain,
  escrow: string,
  asset: string,
  amount?: bigint,
): Promise<{ withdrawn: string; txHash: string }> {
  const credited = await balanceOf(chain, escrow, chain.accountId, asset);
  if (credited === 0n) {
    clientError("bad_input", `${chain.accountId} has no ${asset} credited on ${escrow}`);
  }
  const outcome = await chain.call(
    escrow,
    "withdraw",
    { asset, ...(amount === undefined ? {} : { amount: amount.toString() }) },
    { deposit: 1n, gas: 150n * TGAS, handlesReceiptFailures: true },
  );
  if (outcome.events.some((e) => e.event === "withdraw_failed")) {
    clientError(
      "transaction_failed",
      `the ${asset} transfer to ${chain.accountId} failed; the balance was restored (register with the token and withdraw again)`,
      { txHash: outcome.txHash },
    );
  }
  const event = outcome.events.find((e) => e.event === "withdraw");
  const withdrawn = (event?.data[0] as { withdrawn?: string } | undefined)?.withdrawn;
  return { withdrawn: withdrawn ?? (amount ?? credited).toString(), txHash: outcome.txHash };
}

// -- sessions -----------------------------------------------------------------------------------

/** open_session's gas: the registry's eligibility call and the callback, as create_job. */
const OPEN_GAS = 200n * TGAS;

export interface SessionFields {
  machine_id: string;
  client_key: string;
  keyset_sha256: string;
  max_price_per_unit: string;
  expires_within_ns: string;
}

export interface OpenedSession {
  session: Session;
  txHash: string;
}

function sessionFromEvents(outcome: CallOutcome<unknown>): Session {
  const opened = outcome.events.find((e) => e.event === "session_opened");
  if (opened !== undefined) return opened.data[0] as Session;
  const rejected = outcome.events.find((e) => e.event === "session_rejected");
  if (rejected !== undefined) {
    const data = rejected.data[0] as { reason: string; refunded_to: string };
    clientError(
      "job_rejected",
      `the escrow refused the session: ${data.reason} (the budget went back to ${data.refunded_to})`,
      { txHash: outcome.txHash, refunded: true },
    );
  }
  const failure = outcome.failures[0];
  return clientError(
    "transaction_failed",
    failure === undefined
      ? "open_session logged neither session_opened nor session_rejected"
      : `the session was not opened: ${failure}`,
    { txHash: outcome.txHash },
  );
}

export async function openSessionTx(
  chain: MarketChain,
  escrow: string,
  fields: SessionFields,
  budget: bigint,
  payment: Payment,
): Promise<OpenedSession> {
  let outcome: CallOutcome<unknown>;
  const args = { ...fields };
  switch (payment.from) {
    case "attached":
      outcome = await chain.call(escrow, "open_session", args, {
        deposit: budget,
        gas: OPEN_GAS,
        handlesReceiptFailures: true,
      });
      break;
    case "balance":
      outcome = await chain.call(
        escrow,
        "open_session",
        { ...args, asset: payment.asset ?? "NEAR", budget: budget.toString() },
        { gas: OPEN_GAS, handlesReceiptFailures: true },
      );
      break;
    case "token":
      outcome = await chain.call(
        payment.token,
        "ft_transfer_call",
        {
          receiver_id: escrow,
          amount: budget.toString(),
          msg: JSON.stringify({ action: "open_session", session: args }),
        },
        { deposit: 1n, gas: OPEN_GAS, handlesReceiptFailures: true },
      );
      break;
  }
  return { session: sessionFromEvents(outcome), txHash: outcome.txHash };
}

export async function getSession(
  chain: MarketChain,
  escrow: string,
  sessionId: string,
): Promise<Session> {
  const session = await chain.view<Session | null>(escrow, "session", { session_id: sessionId });
  if (session === null) {
    clientError("rpc_error", `session ${sessionId} does not exist on ${escrow}`, { sessionId });
  }
  return session;
}

export async function sessionAction(
  chain: MarketChain,
  escrow: string,
  method: "close_session" | "settle_session" | "dispute_session",
  sessionId: string,
  reason?: string,
): Promise<CallOutcome<Session>> {
  const args: Record<string, unknown> = { session_id: sessionId };
  if (reason !== undefined) args.reason = reason;
  return chain.call<Session>(escrow, method, args);
}
