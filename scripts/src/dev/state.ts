/**
 * What the stack remembers between runs (.data/dev-state.json): the height the contracts were
 * deployed at (where a fresh database starts indexing) and whether the demo market was seeded.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

export interface DevState {
  /** Final height just before the contracts were deployed. */
  deployed_from_height: number;
  seeded: boolean;
}

export function readState(path: string): DevState | null {
  if (!existsSync(path)) return null;
  const value = JSON.parse(readFileSync(path, "utf8")) as Partial<DevState>;
  if (typeof value.deployed_from_height !== "number" || typeof value.seeded !== "boolean") {
    throw new Error(`${path}: not a dev state file; remove it (or all of .data) to start afresh`);
  }
  return value as DevState;
}

export function writeState(path: string, state: DevState): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(state, null, 2)}\n`);
}
