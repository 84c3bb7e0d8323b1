/**
 * Verdicts and attestations. Verifiers post one verdict each on a machine's latest evidence; k
 * approvals (k = threshold, counting current verifiers only) with the same measurements verify it
 * until now + params.attestation_ttl_ns (and make the keyset that evidence attests current), and k
 * rejections reject it and revoke the machine's attestation. Approvals of TEE evidence must carry a
 * TCB status in params.allowed_tcb_statuses. Verifiers pay fixed storage fees for what they add,
 * refunded when it is released.
 */
import { near } from "near-sdk-js";
import { fail } from "../../common/src/errors.ts";
import { emitEvent } from "../../common/src/events.ts";
import type {
  Attestation,
  AttestationState,
  Evidence,
  Machine,
  MachineKeyset,
  Measurements,
  Verdict,
  VerdictSet,
} from "../../common/src/registry-types.ts";
import { StorageMeter } from "../../common/src/storage-meter.ts";
import { readRecord, removeRecord, writeRecord } from "../../common/src/store.ts";
import {
  requireBool,
  requireHex,
  requireMatch,
  requireObject,
  requireOnlyKeys,
  requireText,
} from "../../common/src/validate.ts";
import { attestationKey, verdictsKey } from "./keys.ts";
import { currentKeyset, setCurrentKeyset } from "./keyset.ts";
import { getMachine, parseMachineId, requireMachine, saveMachine } from "./machine-store.ts";
import { measurementId, parseMeasurements } from "./measurements.ts";
import { reportDataHex } from "./report-data.ts";
import { ATTESTATION_STORAGE_BYTES, type RegistryState, VERDICT_STORAGE_BYTES } from "./state.ts";

const TCB_STATUS = /^[A-Za-z0-9_-]+$/;

export function getVerdicts(machineId: string): VerdictSet | null {
  return readRecord<VerdictSet>(verdictsKey(machineId));
}

/** The machine's attestation; one stored by state version 1 reads with keyset_sha256 null. */
export function getAttestation(machineId: string): Attestation | null {
  const stored = readRecord<Attestation>(attestationKey(machineId));
  return stored === null ? null : { ...stored, keyset_sha256: stored.keyset_sha256 ?? null };
}

/** Deletes the verdicts on a machine's evidence, refunding each verifier its fixed fee. */
export function releaseVerdicts(meter: StorageMeter, machineId: string): void {
  const set = getVerdicts(machineId);
  if (set === null) {
    return;
  }
  meter.release(() => removeRecord(verdictsKey(machineId)));
  for (const verdict of set.verdicts) {
    meter.refundBytes(verdict.verifier, VERDICT_STORAGE_BYTES);
  }
}

/** Deletes a machine's attestation, refunding the verifier that paid for it. */
export function releaseAttestation(meter: StorageMeter, machineId: string): boolean {
  const attestation = getAttestation(machineId);
  if (attestation === null) {
    return false;
  }
  meter.release(() => removeRecord(attestationKey(machineId)));
  meter.refundBytes(attestation.paid_by, ATTESTATION_STORAGE_BYTES);
  return true;
}

/** Approvers per measurement id and the number of rejections, among current verifiers. */
function tally(
  set: VerdictSet,
  verifiers: readonly string[],
): { approvers: Map<string, string[]>; approvals: number; rejections: number } {
  const approvers = new Map<string, string[]>();
  let approvals = 0;
  let rejections = 0;
  for (const verdict of set.verdicts) {
    if (!verifiers.includes(verdict.verifier)) {
      continue;
    }
    if (!verdict.approve) {
      rejections++;
    } else if (verdict.measurement_id !== null) {
      approvals++;
      const group = approvers.get(verdict.measurement_id) ?? [];
      group.push(verdict.verifier);
      approvers.set(verdict.measurement_id, group);
    }
  }
  return { approvers, approvals, rejections };
}

export function postVerdict(state: RegistryState, value: unknown): VerdictSet {
  const args = requireObject(value, "args");
  requireOnlyKeys(args, "args", [
    "machine_id",
    "evidence_hash",
    "approve",
    "measurements",
    "tcb_status",
    "reason",
  ]);
  const machineId = parseMachineId(args.machine_id, "machine_id");
  const evidenceHash = requireHex(args.evidence_hash, "evidence_hash", 32, 32);
  const approve = requireBool(args.approve, "approve");
  let measurements: Measurements | null = null;
  if (args.measurements !== undefined && args.measurements !== null) {
    measurements = parseMeasurements(args.measurements, "measurements");
  } else if (approve) {
    fail("measurements: required when approving");
  }
  const tcbStatus = requireMatch(
    args.tcb_status,
    "tcb_status",
    TCB_STATUS,
    32,
    "a TCB status word",
  );
  const reason = args.reason === undefined ? "" : requireText(args.reason, "reason", 0, 256);
  const verifier = near.predecessorAccountId();
  if (!state.verifiers.includes(verifier)) {
    fail(`only verifiers may post verdicts; ${verifier} is not one`);
  }
  const machine = requireMachine(machineId);
  if (
    approve &&
    machine.tee_type !== "none-dev" &&
    !state.params.allowed_tcb_statuses.includes(tcbStatus)
  ) {
    fail(
      `tcb_status: ${tcbStatus} is not in the registry's allowed_tcb_statuses ` +
        `(${state.params.allowed_tcb_statuses.join(", ")}); evidence with it cannot be approved`,
    );
  }
  if (machine.evidence.hash !== evidenceHash) {
    fail(
      `evidence ${evidenceHash} is not the latest evidence of machine ${machineId} ` +
        `(${machine.evidence.hash})`,
    );
  }
  const meter = new StorageMeter();
  const set: VerdictSet = getVerdicts(machineId) ?? {
    machine_id: machineId,
    evidence_hash: evidenceHash,
    outcome: "pending",
    verdicts: [],
  };
  if (set.outcome !== "pending") {
    fail(`evidence ${evidenceHash} of machine ${machineId} is already ${set.outcome}`);
  }
  if (set.verdicts.some((v) => v.verifier === verifier)) {
    fail(`${verifier} already posted a verdict on evidence ${evidenceHash}`);
  }
  const now = near.blockTimestamp();
  const id = measurements === null ? null : measurementId(measurements);
  const verdict: Verdict = {
    verifier,
    approve,
    measurement_id: id,
    posted_at: now.toString(),
  };
  set.verdicts.push(verdict);
  const counts = tally(set, state.verifiers);
  let attestation: Attestation | null = null;
  let activated: MachineKeyset | null = null;
  let revoked = false;
  let fee = VERDICT_STORAGE_BYTES;
  const group = id === null ? [] : (counts.approvers.get(id) ?? []);
  if (approve && measurements !== null && id !== null && group.length >= state.threshold) {
    set.outcome = "verified";
    releaseAttestation(meter, machineId);
    attestation = {
      machine_id: machineId,
      evidence_hash: evidenceHash,
      nonce: machine.evidence.nonce,
      measurement_id: id,
      measurements,
      approvers: group,
      verified_at: now.toString(),
      expires_at: (now + BigInt(state.params.attestation_ttl_ns)).toString(),
      paid_by: verifier,
      keyset_sha256: machine.evidence.keyset_sha256,
    };
    writeRecord(attestationKey(machineId), attestation);
    fee += ATTESTATION_STORAGE_BYTES;
    activated = activateNextKeyset(meter, machine, now);
  } else if (!approve && counts.rejections >= state.threshold) {
    set.outcome = "rejected";
    revoked = releaseAttestation(meter, machineId);
  }
  writeRecord(verdictsKey(machineId), set);
  meter.settle(0n, "", fee);
  emitEvent({
    event: "verdict_posted",
    data: {
      machine_id: machineId,
      evidence_hash: evidenceHash,
      verifier,
      approve,
      measurements,
      measurement_id: id,
      tcb_status: tcbStatus,
      reason,
      posted_at: verdict.posted_at,
      outcome: set.outcome,
      approvals: counts.approvals,
      rejections: counts.rejections,
      attestation,
      attestation_revoked: revoked,
      keyset_activated: activated,
    },
  });
  return set;
}

/**
 * On verification of the latest evidence: the keyset it attests becomes current. The machine
 * record sheds its previous keyset and the previous signing key is freed; those bytes go back to
 * the provider, who paid for them.
 */
function activateNextKeyset(
  meter: StorageMeter,
  machine: Machine,
  now: bigint,
): MachineKeyset | null {
  const next = machine.next_keyset;
  if (next === null || next.keyset_sha256 !== machine.evidence.keyset_sha256) {
    return null;
  }
  const start = near.storageUsage();
  meter.release(() => {
    setCurrentKeyset(machine, next);
    machine.updated_at = now.toString();
    saveMachine(machine);
  });
  meter.refundBytes(machine.provider, start - near.storageUsage());
  return next;
}

export function attestationState(
  machine: Machine,
  set: VerdictSet | null,
  attestation: Attestation | null,
  now: bigint,
): AttestationState {
  if (set !== null && set.evidence_hash === machine.evidence.hash && set.outcome === "rejected") {
    return "rejected";
  }
  if (attestation !== null && attestation.evidence_hash === machine.evidence.hash) {
    return now >= BigInt(attestation.expires_at) ? "expired" : "verified";
  }
  return "pending";
}

export interface EvidenceView {
  machine_id: string;
  evidence: Evidence;
  /** The keyset the latest evidence attests: the next one while pending, else the current one. */
  keyset: MachineKeyset | null;
  attestation_state: AttestationState;
  verdicts: VerdictSet | null;
  attestation: Attestation | null;
}

/** View: a machine's latest evidence, the keyset it attests, its verdicts and the attestation. */
export function viewEvidence(machineId: string): EvidenceView | null {
  const machine = getMachine(machineId);
  if (machine === null) {
    return null;
  }
  const verdicts = getVerdicts(machineId);
  const attestation = getAttestation(machineId);
  const current = currentKeyset(machine);
  const keyset = machine.next_keyset ?? current;
  return {
    machine_id: machineId,
    evidence: machine.evidence,
    keyset:
      keyset !== null && keyset.keyset_sha256 === machine.evidence.keyset_sha256 ? keyset : null,
    attestation_state: attestationState(machine, verdicts, attestation, near.blockTimestamp()),
    verdicts,
    attestation,
  };
}

/**
 * View: the REPORTDATA (hex) a machine's evidence had to carry: the keyset it attests and the nonce
 * it answered, for the latest or the attested evidence.
 */
export function expectedReportData(value: unknown): string {
  const args = requireObject(value, "args");
  requireOnlyKeys(args, "args", ["machine_id", "evidence_hash"]);
  const machine = requireMachine(parseMachineId(args.machine_id, "machine_id"));
  const hash = requireHex(args.evidence_hash, "evidence_hash", 32, 32);
  const attestation = getAttestation(machine.id);
  let bound: { nonce: string; keyset_sha256: string | null };
  if (machine.evidence.hash === hash) {
    bound = machine.evidence;
  } else if (attestation !== null && attestation.evidence_hash === hash) {
    bound = attestation;
  } else {
    fail(
      `evidence ${hash} is neither the latest nor the attested evidence of machine ${machine.id}`,
    );
  }
  if (bound.keyset_sha256 === null) {
    fail(`evidence ${hash} of machine ${machine.id} predates keysets: it attests no keyset`);
  }
  return reportDataHex(bound.keyset_sha256, bound.nonce);
}
