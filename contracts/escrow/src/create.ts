/**
 * Job creation. Funds are locked first (attached NEAR, a prepaid balance, or tokens received through
 * ft_on_transfer), then the registry is asked whether the machine is eligible; the callback creates
 * the job with snapshots of the machine's price, signing key and attested keyset, or gives every
 * unit back (also when the keyset the client encrypted to is no longer the machine's, or the
 * machine does not serve the model).
 */
import { near, type PromiseIndex } from "near-sdk-js";
import { fail } from "../../common/src/errors.ts";
import type { Allowance, FundingSource, Job, JobRequest } from "../../common/src/escrow-types.ts";
import { emitEvent } from "../../common/src/events.ts";
import type { Eligibility } from "../../common/src/registry-types.ts";
import { parseU64, parseU128 } from "../../common/src/u128.ts";
import { requireHex } from "../../common/src/validate.ts";
import { escrowIncoming } from "./balances.ts";
import {
  askEligibility,
  type EligibilityAsk,
  readEligibility,
  refundRefused,
} from "./eligibility.ts";
import { insertJob } from "./jobs.ts";
import { type EscrowState, STORAGE_BYTES } from "./state.ts";
import { canCharge, chargeStorage } from "./storage.ts";

/** The fields every job request carries, whatever pays for it. */
export const JOB_FIELDS = [
  "machine_id",
  "model_hash",
  "input_hash",
  "keyset_sha256",
  "accept_within_ns",
  "deliver_within_ns",
  "max_price_per_unit",
] as const;

function parseWithin(value: unknown, field: string, min: string, max: string): string {
  const ns = parseU64(value, field);
  if (ns < BigInt(min) || ns > BigInt(max)) {
    fail(`${field}: must be between ${min} and ${max} ns, got ${ns}`);
  }
  return ns.toString();
}

/**
 * The most per unit the client agreed to pay: required, so a price the provider raises between the
 * client's read and the registry's answer is refused rather than charged (up to the max amount).
 */
function parseMaxPrice(value: unknown): string {
  if (value === undefined || value === null) {
    fail(
      "max_price_per_unit: required: the highest price per unit you accept (the machine's " +
        "price_per_unit from the registry, or more)",
    );
  }
  return parseU128(value, "max_price_per_unit").toString();
}

/** Validates the job fields of `args` into a request paid by `payer` with `maxAmount` of `asset`. */
export function parseJobRequest(
  state: EscrowState,
  args: Record<string, unknown>,
  funding: {
    client: string;
    payer: string;
    asset: string;
    maxAmount: bigint;
    source: FundingSource;
  },
): JobRequest {
  if (funding.maxAmount === 0n) {
    fail("max_amount: must be greater than 0");
  }
  const p = state.params;
  return {
    client: funding.client,
    payer: funding.payer,
    machine_id: parseU64(args.machine_id, "machine_id").toString(),
    asset: funding.asset,
    max_amount: funding.maxAmount.toString(),
    model_hash: requireHex(args.model_hash, "model_hash", 32, 32),
    input_hash: requireHex(args.input_hash, "input_hash", 32, 32),
    keyset_sha256: requireHex(args.keyset_sha256, "keyset_sha256", 32, 32),
    accept_within_ns: parseWithin(
      args.accept_within_ns,
      "accept_within_ns",
      p.min_accept_ns,
      p.max_accept_ns,
    ),
    deliver_within_ns: parseWithin(
      args.deliver_within_ns,
      "deliver_within_ns",
      p.min_deliver_ns,
      p.max_deliver_ns,
    ),
    max_price_per_unit: parseMaxPrice(args.max_price_per_unit),
    source: funding.source,
  };
}

/** Fails unless the payer can pay the job's storage fee (charged when the job is created). */
export function requireStorageForJob(payer: string): void {
  if (!canCharge(payer, STORAGE_BYTES.job)) {
    fail(
      `${payer} needs an available storage balance of at least ` +
        `${STORAGE_BYTES.job * near.storageByteCost()} for a job: call storage_deposit`,
    );
  }
}

/**
 * Asks the registry about the job's machine, with on_eligibility as the callback; returns its
 * promise. `allowancePeriod`: the allowance period the amount was spent from, given back on refusal.
 */
export function askRegistry(
  state: EscrowState,
  request: JobRequest,
  allowancePeriod: string | null = null,
): PromiseIndex {
  return askEligibility(state, request.machine_id, "on_eligibility", "creating a job", {
    request,
    allowance_period: allowancePeriod,
  });
}

/** Emits job_pending for funds locked in this call and hands the registry's answer back. */
export function startJob(
  state: EscrowState,
  request: JobRequest,
  allowance: Allowance | null,
): void {
  requireStorageForJob(request.payer);
  const promise = askRegistry(state, request, allowance?.period_start ?? null);
  emitEvent({ event: "job_pending", data: { ...request, allowance } });
  near.promiseReturn(promise);
}

function refund(request: JobRequest, reason: string, allowancePeriod: string | null): void {
  const allowance = refundRefused(request, BigInt(request.max_amount), allowancePeriod);
  emitEvent({
    event: "job_rejected",
    data: { ...request, reason, refunded_to: request.payer, allowance },
  });
}

function createJob(state: EscrowState, request: JobRequest, answer: Eligibility): Job {
  chargeStorage(request.payer, STORAGE_BYTES.job, "job");
  if (request.source === "token") {
    escrowIncoming(request.asset, BigInt(request.max_amount));
  }
  const now = near.blockTimestamp();
  const job: Job = {
    id: state.next_job_id,
    client: request.client,
    payer: request.payer,
    machine_id: request.machine_id,
    provider: answer.provider ?? "",
    machine_public_key: answer.machine_public_key ?? "",
    price_per_unit: answer.price_per_unit ?? "0",
    fee_bps: state.params.fee_bps,
    keyset_sha256: request.keyset_sha256,
    encryption_key: answer.encryption_key ?? null,
    asset: request.asset,
    max_amount: request.max_amount,
    model_hash: request.model_hash,
    input_hash: request.input_hash,
    status: "requested",
    created_at: now.toString(),
    accept_deadline: (now + BigInt(request.accept_within_ns)).toString(),
    deliver_within_ns: request.deliver_within_ns,
    accepted_at: null,
    deliver_deadline: null,
    result_hash: null,
    usage: null,
    model_name: null,
    prompt_tokens: null,
    completion_tokens: null,
    chunks: null,
    signature: null,
    amount_due: null,
    delivered_at: null,
    dispute_deadline: null,
    disputed_at: null,
    dispute_reason: null,
    arbitration_deadline: null,
    resolution_note: null,
    slash_requested: false,
    provider_payout: null,
    fee: null,
    client_refund: null,
    closed_at: null,
    refund_reason: null,
    failure_code: null,
    settled_by: null,
  };
  state.next_job_id = (BigInt(state.next_job_id) + 1n).toString();
  insertJob(job);
  emitEvent({ event: "job_created", data: job });
  return job;
}

function jobAsk(request: JobRequest): EligibilityAsk {
  return {
    machine_id: request.machine_id,
    payer: request.payer,
    keyset_sha256: request.keyset_sha256,
    max_price_per_unit: request.max_price_per_unit,
    model_hash: request.model_hash,
    storage_bytes: STORAGE_BYTES.job,
    what: "job",
  };
}

export type EligibilityOutcome = Job | { rejected: true; reason: string };

/**
 * The registry's answer. Never fails on a bad answer: it refunds instead, so funds cannot be stuck.
 * For a token-funded request it returns the unused amount (all or nothing) for ft_resolve_transfer.
 */
export function onEligibility(
  state: EscrowState,
  request: JobRequest,
  allowancePeriod: string | null,
): EligibilityOutcome | string {
  const { answer, reason } = readEligibility(jobAsk(request));
  if (answer === null) {
    refund(request, reason, allowancePeriod);
    return request.source === "token" ? request.max_amount : { rejected: true, reason };
  }
  const job = createJob(state, request, answer);
  return request.source === "token" ? "0" : job;
}
