/**
 * The escrow calls of a job's life as the client makes them: storage for the job record, create_job
 * in each way it can be paid (funding.ts), the job view, confirm, dispute, reclaim, balances and
 * withdraw. A session's calls: escrow-sessions.ts.
 */
import type { Job, StorageBalance } from "@gpu-market/common/src/escrow-types.ts";
import type { CallOutcome, MarketChain } from "./chain.ts";
import { TGAS } from "./chain.ts";
import { clientError } from "./errors.ts";
import { type Funded, madeRecord, payInto } from "./funding.ts";
import type { Payment } from "./types.ts";

/**
 * What a job's record takes from the payer's escrow storage balance: the escrow's
 * STORAGE_BYTES.job (6000 bytes) at NEAR's storage price (1e19 yoctoNEAR a byte).
 */
export const JOB_STORAGE_FEE = 6000n * 10n ** 19n;
/** Added to the storage balance when it cannot pay for one more job: room for a few jobs. */
export const STORAGE_TOP_UP = 3n * JOB_STORAGE_FEE;
const JOB: Funded = {
  what: "job",
  method: "create_job",
  amountField: "max_amount",
  made: "job_created",
  refused: "job_rejected",
  // The registry's eligibility call and the callback need 100 Tgas.
  gas: 200n * TGAS,
};

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

export async function createJob(
  chain: MarketChain,
  escrow: string,
  fields: JobFields,
  maxAmount: bigint,
  payment: Payment,
): Promise<CreatedJob> {
  const outcome = await payInto(chain, escrow, JOB, fields, maxAmount, payment);
  return { job: madeRecord<Job>(outcome, JOB), txHash: outcome.txHash };
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
