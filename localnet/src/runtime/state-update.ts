/**
 * The runtime's working view of the state during one chunk (nearcore's TrieUpdate): writes go to a
 * prospective layer that a receipt either commits (with a cause, recorded as state changes) or
 * rolls back; at the end of the chunk committed writes are flushed into the store.
 */
import type { ColumnName, ColumnValue, MemoryStateStore } from "./state-store.ts";
import { ColumnReader } from "./state-store.ts";

interface Write {
  column: ColumnName;
  key: string;
  value: unknown;
}

/** Why a group of writes happened (nearcore's StateChangeCause); hashes become base58 in views. */
export interface StateChangeCause {
  type: string;
  txHash?: Uint8Array;
  receiptHash?: Uint8Array;
}

export interface CommittedChange {
  cause: StateChangeCause;
  writes: Write[];
}

const writeId = (column: ColumnName, key: string): string => `${column}\u0000${key}`;

export class StateUpdate extends ColumnReader {
  private readonly store: MemoryStateStore;
  private readonly committed = new Map<string, Write>();
  private prospective = new Map<string, Write>();
  readonly changes: CommittedChange[] = [];

  constructor(store: MemoryStateStore) {
    super(
      (column, key) => this.read(column, key) as never,
      (column, accountId) => this.keysOf(column, accountId),
    );
    this.store = store;
  }

  read<C extends ColumnName>(column: C, key: string): ColumnValue<C> | undefined {
    const id = writeId(column, key);
    const w = this.prospective.get(id) ?? this.committed.get(id);
    if (w !== undefined) return w.value as ColumnValue<C> | undefined;
    return this.store.columns[column].get(key) as ColumnValue<C> | undefined;
  }

  /** Writes a value; undefined deletes. */
  write<C extends ColumnName>(column: C, key: string, value: ColumnValue<C> | undefined): void {
    this.prospective.set(writeId(column, key), { column, key, value });
  }

  /** Current keys of one account in a prefixed column, including uncommitted writes. */
  keysOf(column: ColumnName, accountId: string): Set<string> {
    const out = new Set<string>();
    for (const key of this.store.columns[column].keysOf(accountId)) out.add(key);
    const prefix = `${column}\u0000${accountId} `;
    for (const layer of [this.committed, this.prospective]) {
      for (const [id, w] of layer) if (id.startsWith(prefix)) out.add(w.key);
    }
    for (const key of [...out]) if (this.read(column, key) === undefined) out.delete(key);
    return out;
  }

  commit(cause: StateChangeCause): void {
    if (this.prospective.size === 0) return;
    const writes: Write[] = [];
    for (const [id, w] of this.prospective) {
      this.committed.set(id, w);
      writes.push(w);
    }
    this.changes.push({ cause, writes });
    this.prospective = new Map();
  }

  rollback(): void {
    this.prospective = new Map();
  }

  /** Writes the committed layer into the store (the block's state), dropping anything uncommitted. */
  flush(): void {
    this.prospective = new Map();
    const columns = this.store.columns;
    for (const w of this.committed.values()) {
      (columns[w.column].set as (key: string, value: unknown) => void)(w.key, w.value);
    }
    this.committed.clear();
  }
}
