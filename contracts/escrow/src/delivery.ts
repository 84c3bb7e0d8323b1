/**
 * What the machine signs: the delivery receipt (deliver_job) and the failure notice (fail_job),
 * both canonical documents of common/src/inference-messages.ts naming this escrow and the job. The
 * escrow checks the receipt against the job (its model's weights, its request's hash), then the
 * ed25519 signature over sha256(document) by the machine key snapshotted at creation; a delivery
 * is recorded (on_deliver) only while the registry still says the machine is eligible.
 */
import { near } from "near-sdk-js";
import { ed25519Verify } from "../../../toolchain/contract-lib/ed25519.ts";
import { decodeBase58, fromHex } from "../../common/src/encoding.ts";
import { fail } from "../../common/src/errors.ts";
import type { DeliveryReceipt, Job } from "../../common/src/escrow-types.ts";
import { emitEvent } from "../../common/src/events.ts";
import { FAILURE_CODES, failureBytes, receiptBytes } from "../../common/src/inference-messages.ts";
import { requireEnum, requireHex } from "../../common/src/validate.ts";
import { exposureOpened } from "./exposure.ts";
import { requireJob, requireStatus, saveJob } from "./jobs.ts";
import { refundJob, requireCaller } from "./lifecycle.ts";
import { amountDue } from "./money.ts";
import { parseReceipt, receiptUsage } from "./receipt.ts";
import { recheckEligibility, requireEligible } from "./recheck.ts";
import { type EscrowState, GAS } from "./state.ts";

/** Fails unless `signatureHex` is the job's machine key's signature over sha256(`document`). */
function requireMachineSignature(
  job: Job,
  document: Uint8Array,
  signatureHex: string,
  what: string,
): void {
  const key = decodeBase58(job.machine_public_key.slice("ed25519:".length), "machine_public_key");
  if (!ed25519Verify(fromHex(signatureHex), near.sha256(document), key)) {
    fail(`signature: not a signature by machine key ${job.machine_public_key} over ${what}`);
  }
}

/** Checks the receipt and its signature, then asks the registry; on_deliver records the delivery. */
export function deliverJob(state: EscrowState, job: Job, args: Record<string, unknown>): void {
  const receipt = parseReceipt(args.receipt);
  const signature = requireHex(args.signature, "signature", 64, 64);
  requireCaller([job.provider], "provider", job);
  requireStatus(job, ["accepted"], "deliver");
  const now = near.blockTimestamp();
  if (job.deliver_deadline === null || now > BigInt(job.deliver_deadline)) {
    fail(`job ${job.id}: the deliver deadline ${job.deliver_deadline} has passed`);
  }
  if (receipt.weights_sha256 !== job.model_hash) {
    fail(
      `receipt.weights_sha256: ${receipt.weights_sha256} is not job ${job.id}'s model ${job.model_hash}`,
    );
  }
  if (receipt.request_sha256 !== job.input_hash) {
    fail(
      `receipt.request_sha256: ${receipt.request_sha256} is not job ${job.id}'s input hash ${job.input_hash}`,
    );
  }
  const bytes = receiptBytes({ escrow: near.currentAccountId(), job_id: job.id, ...receipt });
  requireMachineSignature(job, bytes, signature, `job ${job.id}'s receipt`);
  recheckEligibility(
    state,
    job,
    "deliver_job",
    "on_deliver",
    { job_id: job.id, receipt, signature },
    GAS.recheckCallback,
  );
}

/**
 * deliver_job's callback with the checked receipt: records the delivery while the job is still
 * accepted (the client may have reclaimed it meanwhile) and the machine still eligible.
 */
export function onDeliver(state: EscrowState, args: Record<string, unknown>): Job {
  const job = requireJob(String(args.job_id));
  const receipt = args.receipt as DeliveryReceipt;
  requireStatus(job, ["accepted"], "deliver");
  requireEligible(job);
  const now = near.blockTimestamp();
  const usage = receiptUsage(receipt);
  job.status = "delivered";
  job.result_hash = receipt.response_sha256;
  job.usage = usage.toString();
  job.model_name = receipt.model;
  job.prompt_tokens = receipt.prompt_tokens;
  job.completion_tokens = receipt.completion_tokens;
  job.chunks = receipt.chunks;
  job.signature = String(args.signature);
  job.amount_due = amountDue(BigInt(job.max_amount), usage, BigInt(job.price_per_unit)).toString();
  job.delivered_at = now.toString();
  job.dispute_deadline = (now + BigInt(state.params.dispute_window_ns)).toString();
  saveJob(job, "accepted");
  exposureOpened(state, job);
  emitEvent({ event: "job_delivered", data: job });
  return job;
}

/**
 * The provider gives a requested or accepted job back unserved, with the machine's signed reason:
 * the payer gets everything back at once (an allowance it came from is not restored, as on cancel).
 */
export function failJob(state: EscrowState, job: Job, args: Record<string, unknown>): Job {
  const code = requireEnum(args.code, "code", FAILURE_CODES);
  const signature = requireHex(args.signature, "signature", 64, 64);
  requireCaller([job.provider], "provider", job);
  requireStatus(job, ["requested", "accepted"], "fail");
  const bytes = failureBytes({ escrow: near.currentAccountId(), job_id: job.id, code });
  requireMachineSignature(job, bytes, signature, `job ${job.id}'s failure notice (${code})`);
  job.failure_code = code;
  return refundJob(state, job, "provider_failed");
}
