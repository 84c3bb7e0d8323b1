/**
 * Eligibility checked again when the provider acts: accept_job and deliver_job ask the registry
 * (is_eligible) and go on in a callback only while the machine is still eligible, so a provider
 * slashed, paused or retired, a machine deactivated or removed, an attestation lapsed or a
 * measurement revoked since creation can neither accept, nor deliver, nor be paid. reclaim_job
 * before a deadline asks too: the client takes everything back once the machine is ineligible.
 */
import { near } from "near-sdk-js";
import { fail } from "../../common/src/errors.ts";
import type { Job } from "../../common/src/escrow-types.ts";
import type { Eligibility } from "../../common/src/registry-types.ts";
import { typeName } from "../../common/src/validate.ts";
import { type EscrowState, GAS, TGAS } from "./state.ts";

/** Gas the calling method itself still needs after scheduling the promises. */
const GAS_MARGIN = 5n * TGAS;

/**
 * Asks the registry about `job`'s machine, then calls `callback` on this contract with `args`; the
 * callback gets at least `callbackGas` plus all gas left unused (weight 1). Returns the promise
 * for the method to hand back (its result is the callback's).
 */
export function recheckEligibility(
  state: EscrowState,
  job: Job,
  method: string,
  callback: string,
  args: Record<string, unknown>,
  callbackGas: bigint,
): void {
  const needed = GAS.eligibility + callbackGas + GAS_MARGIN;
  const left = near.prepaidGas() - near.usedGas();
  if (left < needed) {
    fail(`not enough gas: ${left} left, ${method} needs at least ${needed} more`);
  }
  const ask = near.promiseBatchCreate(state.registry);
  near.promiseBatchActionFunctionCall(
    ask,
    "is_eligible",
    JSON.stringify({ machine_id: job.machine_id }),
    0n,
    GAS.eligibility,
  );
  const then = near.promiseBatchThen(ask, near.currentAccountId());
  near.promiseBatchActionFunctionCallWeight(
    then,
    callback,
    JSON.stringify(args),
    0n,
    callbackGas,
    1n,
  );
  near.promiseReturn(then);
}

export type Verdict =
  | { kind: "eligible" }
  | { kind: "ineligible"; reason: string }
  | { kind: "unknown"; reason: string };

/**
 * The registry's answer for `job`, in a callback. "unknown" (the call failed or answered nonsense)
 * proves nothing either way: callers refuse the provider and the client alike.
 */
export function registryVerdict(job: Job): Verdict {
  let answer: unknown;
  try {
    answer = JSON.parse(near.promiseResult(0));
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    return { kind: "unknown", reason: `the registry call failed (${why}): try again` };
  }
  if (typeof answer !== "object" || answer === null) {
    return {
      kind: "unknown",
      reason: `the registry answered ${typeName(answer)} instead of an eligibility`,
    };
  }
  const e = answer as Partial<Eligibility>;
  if (e.machine_id !== job.machine_id || typeof e.eligible !== "boolean") {
    return {
      kind: "unknown",
      reason: `the registry's answer is not about machine ${job.machine_id}`,
    };
  }
  if (!e.eligible) {
    return {
      kind: "ineligible",
      reason: `machine ${job.machine_id} is not eligible: ${e.reason ?? "no reason given"}`,
    };
  }
  if (e.provider !== job.provider) {
    return {
      kind: "ineligible",
      reason: `machine ${job.machine_id} is now ${String(e.provider)}'s, not job ${job.id}'s provider ${job.provider}`,
    };
  }
  return { kind: "eligible" };
}

/** Fails unless the callback's answer says the job's machine is still eligible. */
export function requireEligible(job: Job): void {
  const verdict = registryVerdict(job);
  if (verdict.kind !== "eligible") {
    fail(verdict.reason);
  }
}
