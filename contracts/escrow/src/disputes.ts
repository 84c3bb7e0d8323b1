/**
 * Disputes: the client (or payer) disputes a delivered job within the dispute window; the arbiter
 * appointed by governance splits the escrowed amount; the arbiter may ask for the provider to be
 * slashed, which the registry's governance acts on (an event, not a call: slashing is theirs).
 */
import { near } from "near-sdk-js";
import { fail } from "../../common/src/errors.ts";
import type { Job } from "../../common/src/escrow-types.ts";
import { emitEvent } from "../../common/src/events.ts";
import { parseU128 } from "../../common/src/u128.ts";
import { requireText } from "../../common/src/validate.ts";
import { exposureClosed } from "./exposure.ts";
import { requireStatus, saveJob } from "./jobs.ts";
import { closeJob, requireClientSide } from "./lifecycle.ts";
import { type EscrowState, LIMITS } from "./state.ts";

function requireArbiter(state: EscrowState): string {
  const caller = near.predecessorAccountId();
  if (caller !== state.arbiter) {
    fail(`only the arbiter (${state.arbiter}) may do this; called by ${caller}`);
  }
  return caller;
}

export function disputeJob(state: EscrowState, job: Job, args: Record<string, unknown>): Job {
  const reason = requireText(args.reason, "reason", 1, LIMITS.textChars);
  requireClientSide(job);
  requireStatus(job, ["delivered"], "dispute");
  const now = near.blockTimestamp();
  if (now > BigInt(job.dispute_deadline ?? "0")) {
    fail(`job ${job.id}: the dispute window closed at ${job.dispute_deadline}`);
  }
  job.status = "disputed";
  job.disputed_at = now.toString();
  job.dispute_reason = reason;
  job.arbitration_deadline = (now + BigInt(state.params.arbitration_window_ns)).toString();
  saveJob(job, "delivered");
  emitEvent({ event: "job_disputed", data: job });
  return job;
}

/**
 * The arbiter gives `provider_amount` of the max amount to the provider side, the rest back, until
 * the arbitration deadline; after it only settle_job closes the job (the delivery stands), so the
 * arbiter and a settling caller never race.
 */
export function resolveDispute(state: EscrowState, job: Job, args: Record<string, unknown>): Job {
  requireArbiter(state);
  const providerAmount = parseU128(args.provider_amount, "provider_amount");
  const note = requireText(args.note ?? "", "note", 0, LIMITS.textChars);
  requireStatus(job, ["disputed"], "resolve");
  if (near.blockTimestamp() > BigInt(job.arbitration_deadline ?? "0")) {
    fail(
      `job ${job.id}: the arbitration window closed at ${job.arbitration_deadline}; ` +
        "settle_job closes it as delivered",
    );
  }
  if (providerAmount > BigInt(job.max_amount)) {
    fail(`provider_amount: ${providerAmount} is more than the job's max amount ${job.max_amount}`);
  }
  closeJob(state, job, providerAmount);
  exposureClosed(state, job);
  job.status = "resolved";
  job.resolution_note = note;
  saveJob(job, "disputed");
  emitEvent({ event: "dispute_resolved", data: job });
  return job;
}

export function requestSlash(state: EscrowState, job: Job, args: Record<string, unknown>): Job {
  const arbiter = requireArbiter(state);
  const reason = requireText(args.reason, "reason", 1, LIMITS.textChars);
  requireStatus(job, ["disputed", "resolved"], "request_slash");
  if (job.slash_requested) {
    fail(`job ${job.id}: a slash was already requested`);
  }
  job.slash_requested = true;
  saveJob(job, job.status);
  emitEvent({
    event: "slash_requested",
    data: { job_id: job.id, provider: job.provider, machine_id: job.machine_id, arbiter, reason },
  });
  return job;
}
