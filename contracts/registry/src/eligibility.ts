/**
 * Whether a machine may take jobs now. Views (no transaction needed for expiry), also called by
 * escrow through function-call receipts. Unknown ids answer ineligible rather than failing, so a
 * batch answers for every id.
 */
import { near } from "near-sdk-js";
import type { Eligibility, Machine } from "../../common/src/registry-types.ts";
import { requireArray, requireObject, requireOnlyKeys } from "../../common/src/validate.ts";
import { isAllowed } from "./allowlist.ts";
import { getAttestation } from "./attestations.ts";
import { getMachine, parseMachineId } from "./machine-store.ts";
import { getProvider } from "./providers.ts";
import { LIMITS, type RegistryState } from "./state.ts";

/** The first unmet condition, or null when the machine is eligible. */
function ineligibility(
  state: RegistryState,
  machineId: string,
  machine: Machine | null,
): string | null {
  if (machine === null) {
    return `unknown machine ${machineId}`;
  }
  const provider = getProvider(machine.provider);
  if (provider === null || provider.status !== "active") {
    return `provider ${machine.provider} is ${provider?.status ?? "unknown"}`;
  }
  if (machine.status !== "active") {
    return `machine ${machineId} is ${machine.status}`;
  }
  if (machine.keyset_sha256 === null) {
    return `machine ${machineId} has no attested keyset`;
  }
  if (machine.tee_type === "none-dev") {
    return state.dev_mode ? null : "none-dev machines are eligible only in dev mode";
  }
  const attestation = getAttestation(machineId);
  if (attestation === null) {
    return `machine ${machineId} has no verified attestation`;
  }
  const now = near.blockTimestamp();
  if (now >= BigInt(attestation.expires_at)) {
    return `the attestation of machine ${machineId} expired at ${attestation.expires_at}`;
  }
  const approvals = attestation.approvers.filter((v) => state.verifiers.includes(v)).length;
  if (approvals < state.threshold) {
    return `the attestation has ${approvals} approvals by current verifiers, fewer than ${state.threshold}`;
  }
  if (!isAllowed(attestation.measurement_id)) {
    return `measurement ${attestation.measurement_id} is not allowlisted`;
  }
  // The current keyset is the one the attestation verified (it became current then); an
  // attestation from before keysets attests none.
  if (attestation.keyset_sha256 !== machine.keyset_sha256) {
    return `machine ${machineId} has no attested keyset`;
  }
  return null;
}

export function checkEligibility(state: RegistryState, machineId: string): Eligibility {
  const machine = getMachine(machineId);
  const reason = ineligibility(state, machineId, machine);
  const answer: Eligibility = {
    machine_id: machineId,
    eligible: reason === null,
    machine_public_key: machine?.machine_public_key ?? null,
    price_per_unit: machine?.price_per_unit ?? null,
    provider: machine?.provider ?? null,
    encryption_key: machine?.encryption_key ?? null,
    keyset_sha256: machine?.keyset_sha256 ?? null,
    models: machine === null ? null : machine.keyset_sha256 === null ? null : machine.models,
  };
  if (reason !== null) {
    answer.reason = reason;
  }
  return answer;
}

export function isEligible(state: RegistryState, value: unknown): Eligibility {
  const args = requireObject(value, "args");
  requireOnlyKeys(args, "args", ["machine_id"]);
  return checkEligibility(state, parseMachineId(args.machine_id, "machine_id"));
}

export function areEligible(state: RegistryState, value: unknown): Eligibility[] {
  const args = requireObject(value, "args");
  requireOnlyKeys(args, "args", ["machine_ids"]);
  const ids = requireArray(args.machine_ids, "machine_ids", 1, LIMITS.batchEligibility);
  return ids.map((id, i) => checkEligibility(state, parseMachineId(id, `machine_ids[${i}]`)));
}
