/**
 * A job's life after creation: accept (provider, before the accept deadline, while the machine is
 * still eligible: recheck.ts), deliver (delivery.ts), then settle (anyone after the dispute window,
 * the client earlier by confirming); cancel before acceptance, reclaim after a missed deadline or
 * once the machine is no longer eligible, and the provider's fail_job (delivery.ts) give the payer
 * everything back. Every close credits balances; nothing is sent.
 */
import { near } from "near-sdk-js";
import { fail } from "../../common/src/errors.ts";
import type { Job, RefundReason, SettledBy } from "../../common/src/escrow-types.ts";
import { emitEvent } from "../../common/src/events.ts";
import { creditFromEscrow } from "./balances.ts";
import { exposureClosed } from "./exposure.ts";
import { requireJob, requireStatus, saveJob } from "./jobs.ts";
import { splitPayment } from "./money.ts";
import { recheckEligibility, registryVerdict, requireEligible } from "./recheck.ts";
import { type EscrowState, GAS } from "./state.ts";

export function requireCaller(allowed: string[], role: string, job: Job): string {
  const caller = near.predecessorAccountId();
  if (!allowed.includes(caller)) {
    fail(`only the job's ${role} may do this to job ${job.id}; called by ${caller}`);
  }
  return caller;
}

export function requireClientSide(job: Job): string {
  return requireCaller([job.client, job.payer], "client or payer", job);
}

/**
 * Closes `job`: `paid` of its max amount goes to the provider (less the fee, to the treasury), the
 * rest back to the payer, all as credited balances.
 */
export function closeJob(state: EscrowState, job: Job, paid: bigint): void {
  const split = splitPayment(BigInt(job.max_amount), paid, job.fee_bps);
  creditFromEscrow(job.provider, job.asset, split.provider);
  creditFromEscrow(state.treasury, job.asset, split.fee);
  creditFromEscrow(job.payer, job.asset, split.refund);
  job.provider_payout = split.provider.toString();
  job.fee = split.fee.toString();
  job.client_refund = split.refund.toString();
  job.closed_at = near.blockTimestamp().toString();
}

/** The provider accepts before the accept deadline; on_accept checks the machine is eligible. */
export function acceptJob(state: EscrowState, job: Job): void {
  requireCaller([job.provider], "provider", job);
  requireStatus(job, ["requested"], "accept");
  const now = near.blockTimestamp();
  if (now > BigInt(job.accept_deadline)) {
    fail(`job ${job.id}: the accept deadline ${job.accept_deadline} has passed`);
  }
  recheckEligibility(
    state,
    job,
    "accept_job",
    "on_accept",
    { job_id: job.id },
    GAS.recheckCallback,
  );
}

/** accept_job's callback: accepts while the job is still requested and the machine eligible. */
export function onAccept(jobId: string): Job {
  const job = requireJob(jobId);
  requireStatus(job, ["requested"], "accept");
  requireEligible(job);
  const now = near.blockTimestamp();
  job.status = "accepted";
  job.accepted_at = now.toString();
  job.deliver_deadline = (now + BigInt(job.deliver_within_ns)).toString();
  saveJob(job, "requested");
  emitEvent({ event: "job_accepted", data: job });
  return job;
}

function settle(state: EscrowState, job: Job, by: SettledBy): Job {
  const from = job.status;
  closeJob(state, job, BigInt(job.amount_due ?? "0"));
  exposureClosed(state, job);
  job.status = "settled";
  job.settled_by = by;
  saveJob(job, from);
  emitEvent({ event: "job_settled", data: job });
  return job;
}

/** The client accepts the result early: settles now with the amount due. */
export function confirmJob(state: EscrowState, job: Job): Job {
  requireClientSide(job);
  requireStatus(job, ["delivered"], "confirm");
  return settle(state, job, "client");
}

/**
 * Anyone settles a delivered job once its dispute window is over, or a disputed one the arbiter
 * left unresolved past the arbitration window (then the signed delivery stands).
 */
export function settleJob(state: EscrowState, job: Job): Job {
  requireStatus(job, ["delivered", "disputed"], "settle");
  const now = near.blockTimestamp();
  if (job.status === "delivered") {
    if (now <= BigInt(job.dispute_deadline ?? "0")) {
      fail(`job ${job.id}: the dispute window is open until ${job.dispute_deadline}`);
    }
    return settle(state, job, "dispute_window");
  }
  if (now <= BigInt(job.arbitration_deadline ?? "0")) {
    fail(`job ${job.id}: the arbiter has until ${job.arbitration_deadline} to resolve the dispute`);
  }
  return settle(state, job, "arbitration_timeout");
}

const REFUND_EVENTS: Record<RefundReason, "job_cancelled" | "job_reclaimed" | "job_failed"> = {
  cancelled: "job_cancelled",
  accept_timeout: "job_reclaimed",
  deliver_timeout: "job_reclaimed",
  provider_failed: "job_failed",
  provider_ineligible: "job_reclaimed",
};

/** Closes `job` with everything back to the payer. */
export function refundJob(state: EscrowState, job: Job, reason: RefundReason): Job {
  const from = job.status;
  closeJob(state, job, 0n);
  job.status = "refunded";
  job.refund_reason = reason;
  saveJob(job, from);
  emitEvent({ event: REFUND_EVENTS[reason], data: job });
  return job;
}

/** The client withdraws a job the provider has not accepted yet. */
export function cancelJob(state: EscrowState, job: Job): Job {
  requireClientSide(job);
  requireStatus(job, ["requested"], "cancel");
  return refundJob(state, job, "cancelled");
}

/**
 * The client takes everything back after the provider missed the accept or deliver deadline; before
 * it, once the registry says the machine is no longer eligible (on_reclaim).
 */
export function reclaimJob(state: EscrowState, job: Job): Job | undefined {
  requireClientSide(job);
  requireStatus(job, ["requested", "accepted"], "reclaim");
  const now = near.blockTimestamp();
  const deadline = job.status === "requested" ? job.accept_deadline : job.deliver_deadline;
  if (now > BigInt(deadline ?? "0")) {
    return refundJob(state, job, job.status === "requested" ? "accept_timeout" : "deliver_timeout");
  }
  recheckEligibility(
    state,
    job,
    "reclaim_job",
    "on_reclaim",
    { job_id: job.id },
    GAS.recheckCallback,
  );
  return undefined;
}

/** reclaim_job's callback before the deadline: refunds when the machine is no longer eligible. */
export function onReclaim(state: EscrowState, jobId: string): Job {
  const job = requireJob(jobId);
  requireStatus(job, ["requested", "accepted"], "reclaim");
  const verdict = registryVerdict(job);
  if (verdict.kind === "unknown") {
    fail(verdict.reason);
  }
  if (verdict.kind === "eligible") {
    const [action, deadline] =
      job.status === "requested"
        ? ["accept", job.accept_deadline]
        : ["deliver", job.deliver_deadline];
    fail(
      `machine ${job.machine_id} is eligible: the provider may ${action} job ${job.id} until ` +
        `${deadline}; reclaim it after that`,
    );
  }
  return refundJob(state, job, "provider_ineligible");
}
