/**
 * Which trie nodes a contract's storage access touches, for TOUCHING_TRIE_NODE and
 * READ_CACHED_TRIE_NODE. localnet keeps state in maps, not in nearcore's Merkle-Patricia trie, so
 * the path is modelled from the keys the trie would hold:
 *
 * - Above the account: nearcore's trie key for contract data is [9] ++ account_id ++ "," ++ key.
 *   Every trie key starts with nibble 0 (column bytes are below 16), so the root is an extension
 *   node, then comes the branch on the column nibble, then the branch where the accounts holding
 *   contract data diverge: 3 nodes, shared by every contract (the model assumes at least two
 *   accounts hold data, as on any chain with more than one contract).
 * - The account's own keys, exactly: the nibble-wise Patricia trie of its current data keys.
 *   Below the accounts' branch comes an extension (the rest of the account id and ",", plus
 *   the keys' common prefix) unless the account has a single key (then a leaf holds it all);
 *   then a branch node wherever the keys diverge, an extension over each run of shared nibbles
 *   between branches, and a leaf for a key alone under its branch. A lookup stops where the key
 *   leaves the trie (a missing key costs only the nodes up to there).
 * - The value: reading an existing value (storage_read, and the evicted or removed value of
 *   storage_write/storage_remove) retrieves the value node too; storage_has_key does not.
 *
 * Nodes touched once are cached for the rest of the chunk (nearcore's deterministic accounting
 * cache): later accesses pay READ_CACHED_TRIE_NODE for them. Limits: node identities are the
 * path positions, so a node a write changed still counts as cached (nearcore hashes the new node
 * afresh); the accounts' part is a fixed 3 nodes, not the real branching among account ids.
 */

/** Trie nodes above every account's contract data: root extension, column branch, accounts. */
const ABOVE_ACCOUNT = ["root", "column:data", "accounts:data"];
export const NODES_ABOVE_ACCOUNT = ABOVE_ACCOUNT.length;

export interface TriePath {
  /** Identities of the nodes on the path, root first. */
  nodes: string[];
  /** Whether the key is present (its value node can be read). */
  exists: boolean;
}

function nibble(key: string, i: number): number {
  const byte = key.charCodeAt(i >> 1);
  return i & 1 ? byte & 15 : byte >> 4;
}

/** Compares the first `d` nibbles of `a` with those of `key` (`a` shorter sorts first). */
function comparePrefix(a: string, key: string, d: number): number {
  for (let i = 0; i < d; i++) {
    if (i >= a.length * 2) return -1;
    const diff = nibble(a, i) - nibble(key, i);
    if (diff !== 0) return diff;
  }
  return 0;
}

/** The first index in [from, to) whose key is not `below`. */
function lowerBound(
  keys: readonly string[],
  below: (k: string) => boolean,
  from = 0,
  to = keys.length,
): number {
  let lo = from;
  let hi = to;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (below(keys[mid] as string)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function commonNibbles(a: string, b: string): number {
  const max = Math.min(a.length, b.length) * 2;
  let i = 0;
  while (i < max && nibble(a, i) === nibble(b, i)) i++;
  return i;
}

/**
 * The path to `key` in the Patricia trie of `keys` (sorted, distinct; latin1 strings, one char
 * per byte). Node identities are `kind@nibble-depth:prefix`, unique within the account.
 */
export function accountTriePath(keys: readonly string[], key: string): TriePath {
  const nodes: string[] = [];
  if (keys.length === 0) return { nodes, exists: false };
  const id = (kind: string, d: number) => `${kind}@${d}:${key.slice(0, (d + 1) >> 1)}`;
  let lo = 0;
  let hi = keys.length;
  let d = 0;
  for (let first = true; ; first = false) {
    if (hi - lo === 1) {
      nodes.push(id("leaf", d));
      return { nodes, exists: keys[lo] === key };
    }
    const shared = commonNibbles(keys[lo] as string, keys[hi - 1] as string);
    if (shared > d || first) {
      nodes.push(id("ext", d));
      if (commonNibbles(key, keys[lo] as string) < shared) return { nodes, exists: false };
    }
    d = shared;
    nodes.push(id("branch", d));
    if (key.length * 2 === d) return { nodes, exists: keys[lo] === key };
    d += 1;
    const depth = d;
    const to = hi;
    lo = lowerBound(keys, (k) => comparePrefix(k, key, depth) < 0, lo, to);
    hi = lowerBound(keys, (k) => comparePrefix(k, key, depth) <= 0, lo, to);
    if (lo === hi) return { nodes, exists: false };
  }
}

/** A key's bytes as a latin1 string (one char per byte: string order is byte order). */
export function latin1Key(key: Uint8Array): string {
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString("latin1");
}

/**
 * One account's data keys as one function call sees them (loaded on its first storage access,
 * kept in step with its writes), charged against a cache of touched nodes.
 */
export class AccountTrie {
  readonly #accountId: string;
  readonly #cache: Set<string>;
  readonly #load: () => Iterable<string>;
  #keys: string[] | null = null;

  /** `loadKeys` lists the account's keys (latin1) before the call; `cache` may outlive the call. */
  constructor(accountId: string, cache: Set<string>, loadKeys: () => Iterable<string>) {
    this.#accountId = accountId;
    this.#cache = cache;
    this.#load = loadKeys;
  }

  #sorted(): string[] {
    this.#keys ??= [...this.#load()].sort();
    return this.#keys;
  }

  /** Touched and cached node counts of one access to `key`. */
  access(key: Uint8Array, readsValue: boolean): { touched: number; cached: number } {
    const k = latin1Key(key);
    const path = accountTriePath(this.#sorted(), k);
    const ids = [...ABOVE_ACCOUNT];
    for (const node of path.nodes) ids.push(`${this.#accountId} ${node}`);
    if (readsValue && path.exists) ids.push(`${this.#accountId} value:${k}`);
    let touched = 0;
    let cached = 0;
    for (const node of ids) {
      if (this.#cache.has(node)) cached++;
      else {
        this.#cache.add(node);
        touched++;
      }
    }
    return { touched, cached };
  }

  /** The call wrote `key` (a new key joins the trie). */
  added(key: Uint8Array): void {
    const keys = this.#sorted();
    const k = latin1Key(key);
    const at = lowerBound(keys, (x) => x < k);
    if (keys[at] !== k) keys.splice(at, 0, k);
  }

  /** The call removed `key`. */
  removed(key: Uint8Array): void {
    const keys = this.#sorted();
    const k = latin1Key(key);
    const at = lowerBound(keys, (x) => x < k);
    if (keys[at] === k) keys.splice(at, 1);
  }
}
