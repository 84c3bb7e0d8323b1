/** Machine records by id; records of state version 1 (no keysets) read in the current layout. */
import { fail } from "../../common/src/errors.ts";
import type { Evidence, Machine } from "../../common/src/registry-types.ts";
import { readRecord, writeRecord } from "../../common/src/store.ts";
import { parseU64 } from "../../common/src/u128.ts";
import { machineKey } from "./keys.ts";

export function parseMachineId(value: unknown, field: string): string {
  return parseU64(value, field).toString();
}

/** A machine as version 1 stored it: no keyset fields anywhere. */
type StoredMachine = Omit<
  Machine,
  "encryption_key" | "models" | "keyset_sha256" | "next_keyset" | "evidence"
> &
  Partial<Pick<Machine, "encryption_key" | "models" | "keyset_sha256" | "next_keyset">> & {
    evidence: Omit<Evidence, "keyset_sha256"> & { keyset_sha256?: string | null };
  };

/**
 * A stored record in the current layout. Version 1 records are not rewritten by migrate (their
 * number is unbounded): they read as having no keyset, and take the current layout when next saved.
 */
function currentLayout(stored: StoredMachine): Machine {
  if (stored.keyset_sha256 !== undefined) {
    return stored as Machine;
  }
  const e = stored.evidence;
  return {
    id: stored.id,
    provider: stored.provider,
    machine_public_key: stored.machine_public_key,
    encryption_key: null,
    models: [],
    keyset_sha256: null,
    tee_type: stored.tee_type,
    hardware: stored.hardware,
    price_per_unit: stored.price_per_unit,
    status: stored.status,
    created_at: stored.created_at,
    updated_at: stored.updated_at,
    evidence: {
      hash: e.hash,
      size: e.size,
      nonce: e.nonce,
      submitted_at: e.submitted_at,
      keyset_sha256: null,
    },
    next_keyset: null,
  };
}

export function getMachine(id: string): Machine | null {
  const stored = readRecord<StoredMachine>(machineKey(id));
  return stored === null ? null : currentLayout(stored);
}

export function requireMachine(id: string): Machine {
  return getMachine(id) ?? fail(`unknown machine ${id}`);
}

export function saveMachine(machine: Machine): void {
  writeRecord(machineKey(machine.id), machine);
}
