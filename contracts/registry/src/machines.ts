/** Machines: added with evidence answering a challenge, repriced, (de)activated, removed. */
import { near } from "near-sdk-js";
import { fail } from "../../common/src/errors.ts";
import { emitEvent } from "../../common/src/events.ts";
import type { Machine, MachineStatus } from "../../common/src/registry-types.ts";
import { StorageMeter } from "../../common/src/storage-meter.ts";
import { removeRecord } from "../../common/src/store.ts";
import { parseU128 } from "../../common/src/u128.ts";
import {
  requireAccountId,
  requireEnum,
  requireObject,
  requireOnlyKeys,
  requirePage,
} from "../../common/src/validate.ts";
import { releaseAttestation, releaseVerdicts } from "./attestations.ts";
import { consumeChallenge } from "./challenges.ts";
import { acceptEvidence } from "./evidence.ts";
import { parseHardware, refuseDevtools } from "./hardware.ts";
import { machineKey, machineSet, providerMachineSet } from "./keys.ts";
import {
  currentKeyset,
  KEYSET_FIELDS,
  parseKeyset,
  parseOptionalKeyset,
  releaseMachineKey,
  reserveMachineKey,
  setCurrentKeyset,
} from "./keyset.ts";
import { requireKeyProof } from "./machine-key.ts";
import { getMachine, parseMachineId, requireMachine, saveMachine } from "./machine-store.ts";
import { requireCallerProvider } from "./providers.ts";
import { LIMITS, type RegistryState } from "./state.ts";

function parsePrice(value: unknown): string {
  const price = parseU128(value, "price_per_unit");
  if (price === 0n) {
    fail("price_per_unit: must be greater than 0");
  }
  return price.toString();
}

/** The machine named by args.machine_id, which the caller must own. */
function requireOwnMachine(args: Record<string, unknown>, method: string): Machine {
  const machine = requireMachine(parseMachineId(args.machine_id, "machine_id"));
  const caller = near.predecessorAccountId();
  if (machine.provider !== caller) {
    fail(`only its provider (${machine.provider}) may call ${method} on machine ${machine.id}`);
  }
  return machine;
}

export function addMachine(state: RegistryState, value: unknown): Machine {
  const args = requireObject(value, "args");
  requireOnlyKeys(args, "args", [
    ...KEYSET_FIELDS,
    "machine_key_signature",
    "tee_type",
    "hardware",
    "price_per_unit",
    "evidence",
  ]);
  const caller = near.predecessorAccountId();
  const keyset = parseKeyset(args, caller);
  const teeType = requireEnum(args.tee_type, "tee_type", ["tdx", "sev-snp", "none-dev"]);
  const hardware = parseHardware(args.hardware, "hardware");
  refuseDevtools(teeType, hardware, "hardware");
  const price = parsePrice(args.price_per_unit);
  const provider = requireCallerProvider(["active"], "add_machine");
  const meter = new StorageMeter();
  const id = state.next_machine_id;
  reserveMachineKey(keyset.machine_public_key, id);
  const challenge = consumeChallenge(provider.account_id, keyset.machine_public_key);
  requireKeyProof(
    args.machine_key_signature,
    keyset.machine_public_key,
    provider.account_id,
    challenge.nonce,
  );
  const evidence = acceptEvidence(
    args.evidence,
    state.params,
    challenge.nonce,
    keyset.keyset_sha256,
  );
  state.next_machine_id = (BigInt(id) + 1n).toString();
  const machine: Machine = {
    id,
    provider: provider.account_id,
    machine_public_key: keyset.machine_public_key,
    encryption_key: keyset.encryption_key,
    models: keyset.models,
    keyset_sha256: keyset.keyset_sha256,
    tee_type: teeType,
    hardware,
    price_per_unit: price,
    status: "active",
    created_at: evidence.submitted_at,
    updated_at: evidence.submitted_at,
    evidence,
    next_keyset: null,
  };
  saveMachine(machine);
  machineSet().add(id);
  providerMachineSet(provider.account_id).add(id);
  meter.settle();
  emitEvent({ event: "machine_added", data: machine });
  return machine;
}

/**
 * New evidence for a machine (re-attestation), optionally for a new keyset (machine_public_key,
 * encryption_key and models together; a new signing key answers its own challenge and proves its
 * possession). The previous attestation and keyset stay current until this evidence is verified,
 * when its keyset becomes current (none-dev machines, which nothing verifies, take it at once).
 * A pending keyset this one replaces frees its signing key.
 */
export function submitEvidence(state: RegistryState, value: unknown): Machine {
  const args = requireObject(value, "args");
  requireOnlyKeys(args, "args", [
    "machine_id",
    "evidence",
    ...KEYSET_FIELDS,
    "machine_key_signature",
  ]);
  const machine = requireOwnMachine(args, "submit_evidence");
  requireCallerProvider(["active", "paused"], "submit_evidence");
  refuseDevtools(machine.tee_type, machine.hardware, "hardware");
  const keyset =
    parseOptionalKeyset(args, machine.provider) ??
    currentKeyset(machine) ??
    fail(
      `machine ${machine.id} has no keyset yet: give machine_public_key, encryption_key and ` +
        "models with its evidence",
    );
  const meter = new StorageMeter();
  const key = keyset.machine_public_key;
  const held =
    key === machine.machine_public_key || key === machine.next_keyset?.machine_public_key;
  reserveMachineKey(key, machine.id);
  const challenge = consumeChallenge(machine.provider, key);
  if (!held || args.machine_key_signature !== undefined) {
    requireKeyProof(args.machine_key_signature, key, machine.provider, challenge.nonce);
  }
  const evidence = acceptEvidence(
    args.evidence,
    state.params,
    challenge.nonce,
    keyset.keyset_sha256,
  );
  releaseVerdicts(meter, machine.id);
  machine.evidence = evidence;
  machine.updated_at = evidence.submitted_at;
  const pending = machine.next_keyset?.machine_public_key ?? null;
  if (pending !== null && pending !== key && pending !== machine.machine_public_key) {
    releaseMachineKey(pending, machine.id);
  }
  if (machine.tee_type === "none-dev") {
    setCurrentKeyset(machine, keyset);
  } else {
    machine.next_keyset = keyset.keyset_sha256 === machine.keyset_sha256 ? null : keyset;
  }
  saveMachine(machine);
  meter.settle();
  emitEvent({
    event: "evidence_submitted",
    data: {
      machine_id: machine.id,
      provider: machine.provider,
      ...evidence,
      current_keyset: currentKeyset(machine),
      next_keyset: machine.next_keyset,
    },
  });
  return machine;
}

export function updateMachinePrice(value: unknown): Machine {
  const args = requireObject(value, "args");
  requireOnlyKeys(args, "args", ["machine_id", "price_per_unit"]);
  const price = parsePrice(args.price_per_unit);
  const machine = requireOwnMachine(args, "update_machine_price");
  const meter = new StorageMeter();
  machine.price_per_unit = price;
  machine.updated_at = near.blockTimestamp().toString();
  saveMachine(machine);
  meter.settle();
  emitEvent({ event: "machine_price_updated", data: machine });
  return machine;
}

export function setMachineActive(value: unknown, active: boolean): Machine {
  const method = active ? "reactivate_machine" : "deactivate_machine";
  const args = requireObject(value, "args");
  requireOnlyKeys(args, "args", ["machine_id"]);
  const machine = requireOwnMachine(args, method);
  const wanted: MachineStatus = active ? "active" : "inactive";
  if (machine.status === wanted) {
    fail(`machine ${machine.id} is already ${wanted}`);
  }
  if (active) {
    requireCallerProvider(["active", "paused"], method);
  }
  const meter = new StorageMeter();
  machine.status = wanted;
  machine.updated_at = near.blockTimestamp().toString();
  saveMachine(machine);
  meter.settle();
  emitEvent({ event: active ? "machine_reactivated" : "machine_deactivated", data: machine });
  return machine;
}

/**
 * Deletes the machine and its attestation records, and frees its signing keys (current and
 * pending); their storage goes back to who paid it.
 */
export function removeMachine(value: unknown): { id: string; provider: string } {
  const args = requireObject(value, "args");
  requireOnlyKeys(args, "args", ["machine_id"]);
  const machine = requireOwnMachine(args, "remove_machine");
  const meter = new StorageMeter();
  releaseVerdicts(meter, machine.id);
  releaseAttestation(meter, machine.id);
  releaseMachineKey(machine.machine_public_key, machine.id);
  if (machine.next_keyset !== null) {
    releaseMachineKey(machine.next_keyset.machine_public_key, machine.id);
  }
  removeRecord(machineKey(machine.id));
  machineSet().remove(machine.id);
  providerMachineSet(machine.provider).remove(machine.id);
  meter.settle();
  const data = {
    id: machine.id,
    provider: machine.provider,
    machine_public_key: machine.machine_public_key,
  };
  emitEvent({ event: "machine_removed", data });
  return data;
}

/** View: a page of machines, of one provider when given; `status` filters within the page. */
export function listMachines(value: unknown): Machine[] {
  const args = requireObject(value, "args");
  requireOnlyKeys(args, "args", ["provider", "status", "from_index", "limit"]);
  const { from, limit } = requirePage(args, LIMITS.pageLimit);
  const set =
    args.provider === undefined
      ? machineSet()
      : providerMachineSet(requireAccountId(args.provider, "provider"));
  const status =
    args.status === undefined ? null : requireEnum(args.status, "status", ["active", "inactive"]);
  const out: Machine[] = [];
  for (const id of set.page(from, limit)) {
    const machine = getMachine(id);
    if (machine !== null && (status === null || machine.status === status)) {
      out.push(machine);
    }
  }
  return out;
}
