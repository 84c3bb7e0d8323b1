/** The trie model behind TOUCHING_TRIE_NODE / READ_CACHED_TRIE_NODE (src/runtime/trie-model.ts). */
import { describe, expect, it } from "vitest";
import {
  AccountTrie,
  accountTriePath,
  latin1Key,
  NODES_ABOVE_ACCOUNT,
} from "../../src/runtime/trie-model.ts";
import { ext_costs, MemoryExternal, profileOf, run, wat } from "../vm/helpers.ts";

const kinds = (keys: string[], key: string) =>
  accountTriePath([...keys].sort(), key).nodes.map((n) => n.slice(0, n.indexOf("@")));
const bytes = (s: string) => Uint8Array.from(Buffer.from(s, "latin1"));

describe("the path to a key in the account's Patricia trie", () => {
  it("one key: a leaf below the accounts' branch", () => {
    expect(accountTriePath(["STATE"], "STATE")).toEqual({ nodes: ["leaf@0:"], exists: true });
    expect(accountTriePath(["STATE"], "other").exists).toBe(false);
    expect(accountTriePath([], "STATE")).toEqual({ nodes: [], exists: false });
  });

  it("two keys with a shared prefix: extension, branch where they part, leaf", () => {
    // "aaabb" / "aaacc": 'b' (0x62) and 'c' (0x63) share their high nibble.
    expect(kinds(["aaabb", "aaacc"], "aaabb")).toEqual(["ext", "branch", "leaf"]);
    const path = accountTriePath(["aaabb", "aaacc"], "aaabb");
    expect(path.nodes[1]).toBe("branch@7:aaab");
    // A key leaving the trie inside the extension stops there.
    expect(accountTriePath(["aaabb", "aaacc"], "zz")).toEqual({
      nodes: ["ext@0:"],
      exists: false,
    });
    // A key leaving at the branch stops at the branch (no such child).
    expect(kinds(["aaabb", "aaacc"], "aaad")).toEqual(["ext", "branch"]);
  });

  it("a key that ends at a branch is the branch's value", () => {
    expect(accountTriePath(["ab", "abc", "abd"], "ab")).toEqual({
      nodes: ["ext@0:", "branch@4:ab"],
      exists: true,
    });
  });

  it("depth grows with the number of keys (16 children per branch)", () => {
    const keysOf = (n: number, width: number) =>
      Array.from({ length: n }, (_, i) => `m${i.toString(16).padStart(width, "0")}`);
    // 16 keys differing in one hex digit: ext, branch (high nibble of the digit), leaf.
    expect(kinds(keysOf(16, 1), "m7")).toEqual(["ext", "branch", "branch", "leaf"]);
    const few = kinds(keysOf(16, 3), "m007").length;
    const many = kinds(keysOf(4096, 3), "m7a3").length;
    expect(many).toBeGreaterThan(few);
  });
});

describe("charging through the accounting cache", () => {
  it("nodes touched once in a chunk are cached for its later accesses", () => {
    const cache = new Set<string>();
    const keys = () => ["STATE", "m1", "m2"];
    const first = new AccountTrie("a.near", cache, keys);
    // 3 above the account + ext, branch, leaf of "STATE" + its value.
    expect(first.access(bytes("STATE"), true)).toEqual({
      touched: NODES_ABOVE_ACCOUNT + 4,
      cached: 0,
    });
    expect(first.access(bytes("STATE"), true)).toEqual({
      touched: 0,
      cached: NODES_ABOVE_ACCOUNT + 4,
    });
    // Another call in the same chunk: the shared nodes are cached; the extension over "m",
    // the branch on "1"/"2" and the leaf are new.
    const second = new AccountTrie("a.near", cache, keys);
    expect(second.access(bytes("m1"), false)).toEqual({
      touched: 3,
      cached: NODES_ABOVE_ACCOUNT + 2,
    });
    // Another account shares only the nodes above the accounts.
    const other = new AccountTrie("b.near", cache, keys);
    expect(other.access(bytes("STATE"), true).cached).toBe(NODES_ABOVE_ACCOUNT);
  });

  it("a write joins the trie for the call's later lookups", () => {
    const trie = new AccountTrie("a.near", new Set(), () => ["STATE"]);
    expect(latin1Key(bytes("x"))).toBe("x");
    trie.added(bytes("x"));
    // Two keys now: ext, branch, leaf, value.
    expect(trie.access(bytes("x"), true).touched).toBe(NODES_ABOVE_ACCOUNT + 4);
    trie.removed(bytes("x"));
    expect(trie.access(bytes("STATE"), true)).toEqual({ touched: 2, cached: 3 });
  });

  it("storage_read of one key twice in a call: touched once, then cached", () => {
    const code = wat(`(module
      (import "env" "storage_read" (func $r (param i64 i64 i64) (result i64)))
      (memory 1) (data (i32.const 0) "key")
      (func (export "twice")
        (drop (call $r (i64.const 3) (i64.const 0) (i64.const 0)))
        (drop (call $r (i64.const 3) (i64.const 0) (i64.const 0)))))`);
    const ext = new MemoryExternal();
    ext.storageSet(bytes("key"), bytes("v"));
    ext.storageSet(bytes("other"), bytes("w"));
    const p = profileOf(run(code, "twice", {}, ext));
    const nodes = BigInt(NODES_ABOVE_ACCOUNT + 4); // ext, branch, leaf, value
    expect(p.TOUCHING_TRIE_NODE).toBe(nodes * BigInt(ext_costs.touching_trie_node));
    expect(p.READ_CACHED_TRIE_NODE).toBe(nodes * BigInt(ext_costs.read_cached_trie_node));
  });
});
