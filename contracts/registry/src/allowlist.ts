/** Allowlisted measurement ids (sha256 of canonical measurements), set by the owner. */
import { near } from "near-sdk-js";
import { fail } from "../../common/src/errors.ts";
import { emitEvent } from "../../common/src/events.ts";
import type { AllowedMeasurement } from "../../common/src/registry-types.ts";
import { hasRecord, readRecord, removeRecord, writeRecord } from "../../common/src/store.ts";
import { requireHex, requireText } from "../../common/src/validate.ts";
import { allowedKey, allowlistSet } from "./keys.ts";
import { ownerArgs } from "./owner-args.ts";
import type { RegistryState } from "./state.ts";

export function isAllowed(measurementId: string): boolean {
  return hasRecord(allowedKey(measurementId));
}

export function allowMeasurement(state: RegistryState, value: unknown): AllowedMeasurement {
  const args = ownerArgs(state, "allow_measurement", value, ["measurement_id", "label"]);
  const id = requireHex(args.measurement_id, "measurement_id", 32, 32);
  const label = requireText(args.label, "label", 1, 128);
  if (isAllowed(id)) {
    fail(`measurement ${id} is already allowlisted`);
  }
  const entry: AllowedMeasurement = {
    measurement_id: id,
    label,
    added_at: near.blockTimestamp().toString(),
  };
  writeRecord(allowedKey(id), entry);
  allowlistSet().add(id);
  emitEvent({ event: "measurement_allowed", data: entry });
  return entry;
}

/** Machines attested with this measurement become ineligible at once. */
export function revokeMeasurement(state: RegistryState, value: unknown): string {
  const args = ownerArgs(state, "revoke_measurement", value, ["measurement_id"]);
  const id = requireHex(args.measurement_id, "measurement_id", 32, 32);
  if (!isAllowed(id)) {
    fail(`measurement ${id} is not allowlisted`);
  }
  removeRecord(allowedKey(id));
  allowlistSet().remove(id);
  emitEvent({ event: "measurement_revoked", data: { measurement_id: id } });
  return id;
}

export function listAllowlist(from: number, limit: number): AllowedMeasurement[] {
  const out: AllowedMeasurement[] = [];
  for (const id of allowlistSet().page(from, limit)) {
    const entry = readRecord<AllowedMeasurement>(allowedKey(id));
    if (entry !== null) {
      out.push(entry);
    }
  }
  return out;
}
