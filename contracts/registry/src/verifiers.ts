/** The verifier set and the approval threshold k (1 <= k <= n), set by the owner. */
import { fail } from "../../common/src/errors.ts";
import { emitEvent } from "../../common/src/events.ts";
import { requireAccountId, requireInt } from "../../common/src/validate.ts";
import { ownerArgs } from "./owner-args.ts";
import { LIMITS, type RegistryState } from "./state.ts";

export function addVerifier(state: RegistryState, value: unknown): string[] {
  const args = ownerArgs(state, "add_verifier", value, ["account_id"]);
  const verifier = requireAccountId(args.account_id, "account_id");
  if (state.verifiers.includes(verifier)) {
    fail(`${verifier} is already a verifier`);
  }
  if (state.verifiers.length >= LIMITS.maxVerifiers) {
    fail(`there are already ${LIMITS.maxVerifiers} verifiers, the most allowed`);
  }
  state.verifiers.push(verifier);
  emitEvent({
    event: "verifier_added",
    data: { verifier, verifiers: state.verifiers, threshold: state.threshold },
  });
  return state.verifiers;
}

/** Its verdicts stop counting at once, for pending evidence and for existing attestations. */
export function removeVerifier(state: RegistryState, value: unknown): string[] {
  const args = ownerArgs(state, "remove_verifier", value, ["account_id"]);
  const verifier = requireAccountId(args.account_id, "account_id");
  if (!state.verifiers.includes(verifier)) {
    fail(`${verifier} is not a verifier`);
  }
  const remaining = state.verifiers.filter((v) => v !== verifier);
  if (remaining.length > 0 && state.threshold > remaining.length) {
    fail(
      `removing ${verifier} would leave ${remaining.length} verifiers, fewer than the threshold ` +
        `${state.threshold}; lower the threshold first`,
    );
  }
  state.verifiers = remaining;
  emitEvent({
    event: "verifier_removed",
    data: { verifier, verifiers: remaining, threshold: state.threshold },
  });
  return remaining;
}

export function setThreshold(state: RegistryState, value: unknown): number {
  const args = ownerArgs(state, "set_threshold", value, ["threshold"]);
  if (state.verifiers.length === 0) {
    fail("threshold: add verifiers before setting a threshold");
  }
  state.threshold = requireInt(args.threshold, "threshold", 1, state.verifiers.length);
  emitEvent({
    event: "threshold_set",
    data: { threshold: state.threshold, verifiers: state.verifiers },
  });
  return state.threshold;
}
