/**
 * A string-keyed map that remembers, for each sealed block, the values its writes replaced (an
 * undo log), so that the state as of a recent block can be read without copying the whole map.
 * Keys of the form "<account> <rest>" are also indexed by account for prefix listings.
 * Values must be treated as immutable: writers store new objects instead of mutating.
 */
export class VersionedMap<V> {
  readonly current = new Map<string, V>();
  /** Undo logs of sealed blocks, oldest first; each maps key -> value before that block (undefined = absent). */
  readonly history: Map<string, V | undefined>[] = [];
  private pending = new Map<string, V | undefined>();
  private readonly byAccount = new Map<string, Set<string>>();

  get(key: string): V | undefined {
    return this.current.get(key);
  }

  /** Writes (or deletes, with undefined) `key` in the current state. */
  set(key: string, value: V | undefined): void {
    if (!this.pending.has(key)) this.pending.set(key, this.current.get(key));
    if (value === undefined) {
      if (this.current.delete(key)) this.unindex(key);
    } else {
      if (!this.current.has(key)) this.index(key);
      this.current.set(key, value);
    }
  }

  /** Closes the writes made since the last seal into one undo log. */
  seal(): void {
    this.history.push(this.pending);
    this.pending = new Map();
  }

  dropOldest(): void {
    this.history.shift();
  }

  /** Value of `key` as of the state after sealed log `index - 1` (index = number of logs kept up to that block). */
  getAt(key: string, index: number): V | undefined {
    for (let i = index; i < this.history.length; i++) {
      const undo = this.history[i] as Map<string, V | undefined>;
      if (undo.has(key)) return undo.get(key);
    }
    if (this.pending.has(key)) return this.pending.get(key);
    return this.current.get(key);
  }

  /** Current keys "<account> ..." of one account. */
  keysOf(account: string): Iterable<string> {
    return this.byAccount.get(account) ?? [];
  }

  /** Keys of one account as of log `index` (current keys plus keys written since then). */
  keysOfAt(account: string, index: number): Set<string> {
    const keys = new Set(this.keysOf(account));
    const prefix = `${account} `;
    const logs = [...this.history.slice(index), this.pending];
    for (const undo of logs) {
      for (const key of undo.keys()) if (key.startsWith(prefix)) keys.add(key);
    }
    return keys;
  }

  private index(key: string): void {
    const space = key.indexOf(" ");
    if (space < 0) return;
    const account = key.slice(0, space);
    let set = this.byAccount.get(account);
    if (set === undefined) {
      set = new Set();
      this.byAccount.set(account, set);
    }
    set.add(key);
  }

  private unindex(key: string): void {
    const space = key.indexOf(" ");
    if (space < 0) return;
    const account = key.slice(0, space);
    const set = this.byAccount.get(account);
    if (set === undefined) return;
    set.delete(key);
    if (set.size === 0) this.byAccount.delete(account);
  }
}
