/**
 * The rows one batch of events reads and writes, in memory: each row the batch touches is loaded
 * once (one query per table for the whole batch), the events are applied to these rows in chain
 * order, and only the final state of each row is written (write.ts). Which rows to load is found by
 * discovery rounds: the same handlers applied to the state in discovery mode, where a row not
 * loaded reads as absent and is recorded as needed; the round is then undone, the needed rows
 * loaded, and another round follows while it finds more (a handler that stopped at a missing row
 * reaches further once that row is loaded). A row the real run asks for that discovery did not
 * predict stops that event with NotLoaded; the caller loads the row and applies the event again.
 * Every change is journaled, so an event that fails halfway is undone exactly.
 */

export type Row = Record<string, unknown>;
export type KeyPart = string | number;

/** The real run asked for a row that is not loaded: load `key` of `table` ("*": all of it). */
export class NotLoaded extends Error {
  override name = "NotLoaded";
  readonly table: string;
  readonly key: string;

  constructor(table: string, key: string) {
    super(`${table} ${key} is not loaded`);
    this.table = table;
    this.key = key;
  }
}

interface Entry {
  /** The row as the database has it (null: absent). */
  origin: Row | null;
  current: Row | null;
  /** Deleted at some point of the batch (a row put again after that is a new row). */
  removed: boolean;
  dirty: boolean;
}

export interface Change {
  key: string;
  origin: Row | null;
  current: Row | null;
  removed: boolean;
}

export const WHOLE_TABLE = "*";

export function rowKey(parts: KeyPart[]): string {
  return parts.length === 1 ? String(parts[0]) : parts.map(String).join("\u0001");
}

export function keyParts(key: string): string[] {
  return key.split("\u0001");
}

/**
 * Rows as committed, kept from one batch to the next (the indexer is the only writer of these
 * tables, so a committed row stays true until the indexer changes it): hot rows (contract state,
 * providers, recent machines and jobs) are not loaded again. Least recently used rows go first.
 * Columns kept by set-based statements (write.ts MAINTAINED) may be stale here; no handler reads
 * them. Cleared whenever a batch fails to commit.
 */
export class RowCache {
  readonly #max: number;
  #rows = new Map<string, Row | null>();
  #complete = new Set<string>();

  constructor(max = 50_000) {
    this.#max = max;
  }

  get(table: string, key: string): Row | null | undefined {
    const id = `${table}\u0002${key}`;
    const row = this.#rows.get(id);
    if (row !== undefined) {
      this.#rows.delete(id);
      this.#rows.set(id, row);
    }
    return row;
  }

  isComplete(table: string): boolean {
    return this.#complete.has(table);
  }

  /** The cached rows of a table (whole tables only are asked for this). */
  *rowsOf(table: string): Generator<[string, Row | null]> {
    const prefix = `${table}\u0002`;
    for (const [id, row] of this.#rows) {
      if (id.startsWith(prefix)) yield [id.slice(prefix.length), row];
    }
  }

  /** Keeps the committed rows of a batch. */
  keep(state: BatchState): void {
    for (const [table, key, row] of state.final()) {
      const id = `${table}\u0002${key}`;
      this.#rows.delete(id);
      this.#rows.set(id, row);
    }
    for (const table of state.completeTables()) this.#complete.add(table);
    for (const id of this.#rows.keys()) {
      if (this.#rows.size <= this.#max) break;
      this.#rows.delete(id);
      // A whole table is whole no more once one of its rows is dropped.
      this.#complete.delete(id.slice(0, id.indexOf("\u0002")));
    }
  }

  clear(): void {
    this.#rows.clear();
    this.#complete.clear();
  }
}

export class BatchState {
  /** Rows the current discovery round asked for and that are not loaded. */
  readonly needs = new Map<string, Set<string>>();
  /** Rows appended (history tables), in order. */
  readonly appended = new Map<string, Row[]>();
  /** Machines whose eligibility may have changed (see eligibility.ts). */
  readonly eligibility = { all: false, machines: new Set<string>(), providers: new Set<string>() };
  /** Providers whose machines take the provider's region again. */
  readonly regions = new Set<string>();
  #tables = new Map<string, Map<string, Entry>>();
  #complete = new Set<string>();
  #journal: (() => void)[] = [];
  #cache: RowCache | null;
  #discovering = false;
  /** Entries a discovery round made up (read as absent), dropped when it ends. */
  #provisional: [Map<string, Entry>, string][] = [];

  constructor(cache: RowCache | null = null) {
    this.#cache = cache;
  }

  /** Starts a discovery round: rows not loaded read as absent and are recorded in `needs`. */
  beginDiscovery(): void {
    this.#discovering = true;
    this.needs.clear();
  }

  /** Ends the round: undoes everything it did; `needs` holds what it asked for. */
  endDiscovery(): void {
    this.rollback(0);
    for (const [rows, key] of this.#provisional) rows.delete(key);
    this.#provisional = [];
    this.appended.clear();
    this.eligibility.all = false;
    this.eligibility.machines.clear();
    this.eligibility.providers.clear();
    this.regions.clear();
    this.#discovering = false;
  }

  #table(table: string): Map<string, Entry> {
    let rows = this.#tables.get(table);
    if (rows === undefined) {
      rows = new Map();
      this.#tables.set(table, rows);
    }
    return rows;
  }

  #need(table: string, key: string): void {
    let keys = this.needs.get(table);
    if (keys === undefined) {
      keys = new Set();
      this.needs.set(table, keys);
    }
    keys.add(key);
  }

  #entry(table: string, key: string): Entry {
    const rows = this.#table(table);
    const found = rows.get(key);
    if (found !== undefined) return found;
    const cached = this.#cache?.get(table, key);
    if (cached !== undefined) {
      const entry: Entry = { origin: cached, current: cached, removed: false, dirty: false };
      rows.set(key, entry);
      return entry;
    }
    const entry: Entry = { origin: null, current: null, removed: false, dirty: false };
    if (!this.#complete.has(table) && !this.#cache?.isComplete(table)) {
      if (!this.#discovering) throw new NotLoaded(table, key);
      this.#need(table, key);
      this.#provisional.push([rows, key]);
    }
    rows.set(key, entry);
    return entry;
  }

  /** Records a loaded row (null: the database has none at that key). */
  loaded(table: string, key: string, row: Row | null): void {
    const rows = this.#table(table);
    if (!rows.has(key)) {
      rows.set(key, { origin: row, current: row, removed: false, dirty: false });
    }
  }

  /** Every row of `table` is loaded: a key not seen is absent. */
  loadedWhole(table: string): void {
    this.#complete.add(table);
  }

  isLoaded(table: string, key: string): boolean {
    return this.#complete.has(table) || (this.#tables.get(table)?.has(key) ?? false);
  }

  get<R extends Row = Row>(table: string, key: KeyPart[]): R | null {
    return this.#entry(table, rowKey(key)).current as R | null;
  }

  /** Writes the row's new state (every column of the table). */
  put(table: string, key: KeyPart[], row: Row): void {
    const entry = this.#entry(table, rowKey(key));
    const { current, dirty } = entry;
    this.#journal.push(() => {
      entry.current = current;
      entry.dirty = dirty;
    });
    entry.current = row;
    entry.dirty = true;
  }

  /** Deletes the row if present; returns whether it was. */
  remove(table: string, key: KeyPart[]): boolean {
    const entry = this.#entry(table, rowKey(key));
    if (entry.current === null) return false;
    const { current, dirty, removed } = entry;
    this.#journal.push(() => {
      entry.current = current;
      entry.dirty = dirty;
      entry.removed = removed;
    });
    entry.current = null;
    entry.removed = true;
    entry.dirty = true;
    return true;
  }

  /** A row of a history table (inserted, never read back). */
  append(table: string, row: Row): void {
    let rows = this.appended.get(table);
    if (rows === undefined) {
      rows = [];
      this.appended.set(table, rows);
    }
    const list = rows;
    list.push(row);
    this.#journal.push(() => {
      list.pop();
    });
  }

  /** The current rows of a whole (small) table. */
  all(table: string): Row[] {
    if (this.#cache?.isComplete(table) && !this.#complete.has(table)) {
      // Every row of the table is in the cache: take them into the batch.
      this.#complete.add(table);
      for (const [key, row] of this.#cache.rowsOf(table)) this.loaded(table, key, row);
    }
    if (!this.#complete.has(table)) {
      if (!this.#discovering) throw new NotLoaded(table, WHOLE_TABLE);
      this.#need(table, WHOLE_TABLE);
    }
    const out: Row[] = [];
    for (const entry of this.#table(table).values()) {
      if (entry.current !== null) out.push(entry.current);
    }
    return out;
  }

  /** A position in the journal, to undo back to. */
  mark(): number {
    return this.#journal.length;
  }

  rollback(mark: number): void {
    while (this.#journal.length > mark) this.#journal.pop()?.();
  }

  /** Every row the batch holds, as it ends (null: absent). */
  *final(): Generator<[string, string, Row | null]> {
    for (const [table, rows] of this.#tables) {
      for (const [key, entry] of rows) yield [table, key, entry.current];
    }
  }

  completeTables(): string[] {
    return [...this.#complete];
  }

  /** The rows of `table` the batch changed. */
  changes(table: string): Change[] {
    const out: Change[] = [];
    for (const [key, entry] of this.#table(table)) {
      if (entry.dirty) {
        out.push({ key, origin: entry.origin, current: entry.current, removed: entry.removed });
      }
    }
    return out;
  }
}
