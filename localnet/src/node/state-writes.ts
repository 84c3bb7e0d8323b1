/**
 * The state writes of one block, read from the runtime's state store right after commitBlock: for
 * every column, each key the block wrote and its value after the block (undefined: deleted).
 * Re-applying them block by block and sealing each with commitBlock rebuilds the same state and the
 * same retained versions without running any transaction again. Every column counts, including the
 * ones records() leaves out (postponed and delayed receipts, received data).
 */
import { type ColumnName, MemoryStateStore } from "../runtime/state-store.ts";
import type { StateStore } from "../runtime/types.ts";

export type StateWrites = Partial<Record<ColumnName, [key: string, value: unknown][]>>;

function memoryStore(state: StateStore): MemoryStateStore {
  if (!(state instanceof MemoryStateStore)) {
    throw new Error("persistence needs the runtime's own state store (MemoryStateStore)");
  }
  return state;
}

/** What the block sealed last wrote. */
export function sealedWrites(state: StateStore): StateWrites {
  const store = memoryStore(state);
  const writes: StateWrites = {};
  for (const [name, column] of Object.entries(store.columns) as [
    ColumnName,
    MemoryStateStore["columns"][ColumnName],
  ][]) {
    const undo = column.history.at(-1);
    if (undo === undefined) {
      throw new Error("persistence needs a state store that keeps at least one version");
    }
    if (undo.size === 0) continue;
    writes[name] = [...undo.keys()].map((key) => [key, column.get(key)]);
  }
  return writes;
}

/** Writes one block's values into the current state (the caller seals them with commitBlock). */
export function applyWrites(state: StateStore, writes: StateWrites): void {
  const store = memoryStore(state);
  for (const [name, entries] of Object.entries(writes)) {
    const column = store.columns[name as ColumnName] as
      | MemoryStateStore["columns"][ColumnName]
      | undefined;
    if (column === undefined || !Array.isArray(entries)) {
      throw new Error(`unknown state column ${JSON.stringify(name)} in a persisted block`);
    }
    for (const [key, value] of entries) column.set(key, value as never);
  }
}
