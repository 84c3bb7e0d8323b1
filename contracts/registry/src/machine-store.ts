/** Machine records by id. */
import { fail } from "../../common/src/errors.ts";
import type { Machine } from "../../common/src/registry-types.ts";
import { readRecord, writeRecord } from "../../common/src/store.ts";
import { parseU64 } from "../../common/src/u128.ts";
import { machineKey } from "./keys.ts";

export function parseMachineId(value: unknown, field: string): string {
  return parseU64(value, field).toString();
}

export function getMachine(id: string): Machine | null {
  return readRecord<Machine>(machineKey(id));
}

export function requireMachine(id: string): Machine {
  return getMachine(id) ?? fail(`unknown machine ${id}`);
}

export function saveMachine(machine: Machine): void {
  writeRecord(machineKey(machine.id), machine);
}
