import { createHash } from "node:crypto";
import { ed25519 } from "@noble/curves/ed25519.js";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { describe, expect, test } from "vitest";
import { NODES_ABOVE_ACCOUNT } from "../../src/runtime/trie-model.ts";
import { ext_costs, MemoryExternal, profileOf, run, TGAS, wat } from "./helpers.ts";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const returned = (out: ReturnType<typeof run>) =>
  out.returnData.kind === "value" ? out.returnData.data : new Uint8Array();

const STORAGE = wat(`(module
  (import "env" "storage_write" (func $w (param i64 i64 i64 i64 i64) (result i64)))
  (import "env" "storage_read" (func $r (param i64 i64 i64) (result i64)))
  (import "env" "storage_remove" (func $rm (param i64 i64 i64) (result i64)))
  (import "env" "storage_has_key" (func $has (param i64 i64) (result i64)))
  (import "env" "register_len" (func $len (param i64) (result i64)))
  (import "env" "value_return" (func $ret (param i64 i64)))
  (import "env" "storage_iter_prefix" (func $iter (param i64 i64) (result i64)))
  (memory 1)
  (data (i32.const 0) "key")
  (data (i32.const 16) "value1")
  (data (i32.const 32) "v2")
  (func (export "write") (drop (call $w (i64.const 3) (i64.const 0) (i64.const 6) (i64.const 16) (i64.const 0))))
  (func (export "overwrite") (i64.store (i32.const 100) (call $w (i64.const 3) (i64.const 0) (i64.const 2) (i64.const 32) (i64.const 1)))
    (i64.store (i32.const 108) (call $len (i64.const 1)))
    (call $ret (i64.const 16) (i64.const 100)))
  (func (export "read") (drop (call $r (i64.const 3) (i64.const 0) (i64.const 2)))
    (call $ret (i64.const -1) (i64.const 2)))
  (func (export "remove") (drop (call $rm (i64.const 3) (i64.const 0) (i64.const 3))))
  (func (export "has") (i64.store (i32.const 100) (call $has (i64.const 3) (i64.const 0)))
    (call $ret (i64.const 8) (i64.const 100)))
  (func (export "long_key") (drop (call $w (i64.const 2049) (i64.const 0) (i64.const 1) (i64.const 0) (i64.const 0))))
  (func (export "iter") (drop (call $iter (i64.const 0) (i64.const 0)))))`);

describe("storage", () => {
  test("write, overwrite, read, has_key, remove with storage_usage accounting", () => {
    const ext = new MemoryExternal();
    const w = run(STORAGE, "write", {}, ext);
    expect(w.aborted).toBeNull();
    expect(w.storageUsage).toBe(1000n + 3n + 6n + 40n);
    expect(ext.storageGet(new TextEncoder().encode("key"))).toEqual(
      new TextEncoder().encode("value1"),
    );
    const p = profileOf(w);
    expect(p.STORAGE_WRITE_BASE).toBe(BigInt(ext_costs.storage_write_base));
    expect(p.STORAGE_WRITE_KEY_BYTE).toBe(3n * BigInt(ext_costs.storage_write_key_byte));
    expect(p.STORAGE_WRITE_VALUE_BYTE).toBe(6n * BigInt(ext_costs.storage_write_value_byte));
    // A new key in an empty account: the lookup ends above the account's (missing) subtree.
    expect(p.TOUCHING_TRIE_NODE).toBe(BigInt(NODES_ABOVE_ACCOUNT * ext_costs.touching_trie_node));

    const o = run(STORAGE, "overwrite", { storageUsage: w.storageUsage }, ext);
    const view = new DataView(returned(o).buffer, returned(o).byteOffset);
    expect(view.getBigUint64(0, true)).toBe(1n); // evicted
    expect(view.getBigUint64(8, true)).toBe(6n); // old value in register 1
    expect(o.storageUsage).toBe(w.storageUsage - 6n + 2n);
    expect(profileOf(o).STORAGE_WRITE_EVICTED_BYTE).toBe(
      6n * BigInt(ext_costs.storage_write_evicted_byte),
    );

    const r = run(STORAGE, "read", { view: { maxGasBurnt: 300n * TGAS } }, ext);
    expect(new TextDecoder().decode(returned(r))).toBe("v2");
    expect(profileOf(r).STORAGE_READ_VALUE_BYTE).toBe(
      2n * BigInt(ext_costs.storage_read_value_byte),
    );

    expect(returned(run(STORAGE, "has", {}, ext))[0]).toBe(1);
    const rm = run(STORAGE, "remove", { storageUsage: o.storageUsage }, ext);
    expect(rm.storageUsage).toBe(o.storageUsage - 3n - 2n - 40n);
    expect(ext.data.size).toBe(0);
    expect(returned(run(STORAGE, "has", {}, ext))[0]).toBe(0);
  });

  test("key length limit", () => {
    expect(run(STORAGE, "long_key").aborted).toEqual({
      view: { ExecutionError: "The length of a storage key 2049 exceeds the limit 2048" },
      debug: "HostError(KeyLengthExceeded { length: 2049, limit: 2048 })",
    });
  });

  test("storage iterators are deprecated", () => {
    expect(run(STORAGE, "iter").aborted?.debug).toBe(
      'HostError(Deprecated { method_name: "storage_iter_prefix" })',
    );
  });

  test("a failed call keeps its logs and gas but not its receipts", () => {
    const code =
      wat(`(module (import "env" "log_utf8" (func $log (param i64 i64))) (import "env" "panic" (func $p))
      (memory 1) (data (i32.const 0) "hello") (func (export "f") (call $log (i64.const 5) (i64.const 0)) (call $p)))`);
    const out = run(code, "f");
    expect(out.logs).toEqual(["hello"]);
    expect(profileOf(out).LOG_BASE).toBe(BigInt(ext_costs.log_base));
  });
});

describe("view calls", () => {
  const prohibited: [string, string, string][] = [
    [
      "storage_write",
      "(param i64 i64 i64 i64 i64) (result i64)",
      "(i64.const 1) (i64.const 0) (i64.const 1) (i64.const 0) (i64.const 0)",
    ],
    [
      "storage_remove",
      "(param i64 i64 i64) (result i64)",
      "(i64.const 1) (i64.const 0) (i64.const 0)",
    ],
    ["signer_account_id", "(param i64)", "(i64.const 0)"],
    ["signer_account_pk", "(param i64)", "(i64.const 0)"],
    ["predecessor_account_id", "(param i64)", "(i64.const 0)"],
    ["prepaid_gas", "(result i64)", ""],
    ["used_gas", "(result i64)", ""],
    ["promise_batch_create", "(param i64 i64) (result i64)", "(i64.const 2) (i64.const 0)"],
    ["promise_results_count", "(result i64)", ""],
  ];
  for (const [name, sig, args] of prohibited) {
    test(`${name} is not allowed in view calls`, () => {
      const hasResult = sig.includes("result");
      const code = wat(`(module (import "env" "${name}" (func $f ${sig})) (memory 1)
        (func (export "f") ${hasResult ? "(drop " : ""}(call $f ${args})${hasResult ? ")" : ""}))`);
      const out = run(code, "f", { view: { maxGasBurnt: 300n * TGAS } });
      expect(out.aborted).toEqual({
        view: { ExecutionError: `${name} is not allowed in view calls` },
        debug: `HostError(ProhibitedInView { method_name: "${name}" })`,
      });
    });
  }
});

describe("context, registers and logs", () => {
  test("context values reach the contract", () => {
    const code = wat(`(module
      (import "env" "block_index" (func $bi (result i64)))
      (import "env" "block_timestamp" (func $ts (result i64)))
      (import "env" "epoch_height" (func $ep (result i64)))
      (import "env" "account_balance" (func $bal (param i64)))
      (import "env" "attached_deposit" (func $dep (param i64)))
      (import "env" "current_account_id" (func $cur (param i64)))
      (import "env" "read_register" (func $rr (param i64 i64)))
      (import "env" "register_len" (func $rl (param i64) (result i64)))
      (import "env" "value_return" (func $ret (param i64 i64)))
      (memory 1)
      (func (export "f")
        (i64.store (i32.const 0) (call $bi))
        (i64.store (i32.const 8) (call $ts))
        (i64.store (i32.const 16) (call $ep))
        (call $bal (i64.const 24))
        (call $dep (i64.const 40))
        (call $cur (i64.const 5))
        (call $rr (i64.const 5) (i64.const 56))
        (call $ret (i64.add (i64.const 56) (call $rl (i64.const 5))) (i64.const 0))))`);
    const balance = (1n << 127n) + 12345n;
    const out = run(code, "f", {
      blockHeight: 77n,
      blockTimestamp: 2n ** 62n,
      epochHeight: 9n,
      accountBalance: balance,
      attachedDeposit: 5n,
    });
    expect(out.aborted).toBeNull();
    const data = returned(out);
    const v = new DataView(data.buffer, data.byteOffset);
    expect(v.getBigUint64(0, true)).toBe(77n);
    expect(v.getBigUint64(8, true)).toBe(2n ** 62n);
    expect(v.getBigUint64(16, true)).toBe(9n);
    expect(v.getBigUint64(24, true) + (v.getBigUint64(32, true) << 64n)).toBe(balance);
    expect(v.getBigUint64(40, true)).toBe(5n);
    expect(new TextDecoder().decode(data.subarray(56))).toBe("contract.test.near");
  });

  test("reading a register that was never written", () => {
    const code = wat(`(module (import "env" "read_register" (func $rr (param i64 i64))) (memory 1)
      (func (export "f") (call $rr (i64.const 42) (i64.const 0))))`);
    expect(run(code, "f").aborted?.debug).toBe("HostError(InvalidRegisterId { register_id: 42 })");
  });

  test("log count and total length limits", () => {
    const code = wat(`(module (import "env" "log_utf8" (func $log (param i64 i64))) (memory 1)
      (func (export "many") (local i32)
        (loop $l (call $log (i64.const 1) (i64.const 0))
          (local.set 0 (i32.add (local.get 0) (i32.const 1)))
          (br_if $l (i32.lt_u (local.get 0) (i32.const 101)))))
      (func (export "long") (call $log (i64.const 16385) (i64.const 0))))`);
    const many = run(code, "many");
    expect(many.aborted?.view).toEqual({
      ExecutionError: "The number of logs will exceed the limit 100",
    });
    expect(many.logs.length).toBe(100);
    expect(run(code, "long").aborted?.debug).toBe(
      "HostError(TotalLogLengthExceeded { length: 16385, limit: 16384 })",
    );
  });

  test("log_utf16", () => {
    const code = wat(`(module (import "env" "log_utf16" (func $log (param i64 i64))) (memory 1)
      (data (i32.const 0) "h\\00\\e9\\00=\\d8\\00\\de\\00\\00")
      (func (export "f") (call $log (i64.const -1) (i64.const 0))))`);
    expect(run(code, "f").logs).toEqual(["hé😀"]);
  });
});

describe("crypto", () => {
  const code = wat(`(module
    (import "env" "sha256" (func $sha (param i64 i64 i64)))
    (import "env" "keccak256" (func $k256 (param i64 i64 i64)))
    (import "env" "ripemd160" (func $rip (param i64 i64 i64)))
    (import "env" "ed25519_verify" (func $ed (param i64 i64 i64 i64 i64 i64) (result i64)))
    (import "env" "input" (func $input (param i64)))
    (import "env" "read_register" (func $rr (param i64 i64)))
    (import "env" "register_len" (func $rl (param i64) (result i64)))
    (import "env" "value_return" (func $ret (param i64 i64)))
    (memory 1)
    (func (export "hashes")
      (call $input (i64.const 0))
      (call $rr (i64.const 0) (i64.const 1000))
      (call $sha (call $rl (i64.const 0)) (i64.const 1000) (i64.const 1))
      (call $rr (i64.const 1) (i64.const 0))
      (call $k256 (call $rl (i64.const 0)) (i64.const 1000) (i64.const 1))
      (call $rr (i64.const 1) (i64.const 32))
      (call $rip (call $rl (i64.const 0)) (i64.const 1000) (i64.const 1))
      (call $rr (i64.const 1) (i64.const 64))
      (call $ret (i64.const 84) (i64.const 0)))
    ;; input: signature (64) | public key (32) | message
    (func (export "verify")
      (call $input (i64.const 0))
      (call $rr (i64.const 0) (i64.const 0))
      (i64.store (i32.const 2000) (call $ed (i64.const 64) (i64.const 0)
        (i64.sub (call $rl (i64.const 0)) (i64.const 96)) (i64.const 96) (i64.const 32) (i64.const 64)))
      (call $ret (i64.const 8) (i64.const 2000)))
    (func (export "bad_key")
      (drop (call $ed (i64.const 64) (i64.const 0) (i64.const 0) (i64.const 0) (i64.const 31) (i64.const 0)))))`);

  test("sha256, keccak256 and ripemd160 of the input", () => {
    const input = new TextEncoder().encode("localnet");
    const out = run(code, "hashes", { input });
    const data = returned(out);
    expect(hex(data.subarray(0, 32))).toBe(createHash("sha256").update(input).digest("hex"));
    expect(hex(data.subarray(64, 84))).toBe(createHash("ripemd160").update(input).digest("hex"));
    expect(profileOf(out).RIPEMD160_BLOCK).toBe(BigInt(ext_costs.ripemd160_block));
    expect(hex(data.subarray(32, 64))).toBe(hex(keccak_256(input)));
  });

  test("ed25519_verify: valid, invalid, wrong key length", () => {
    const secret = new Uint8Array(32).fill(3);
    const pk = ed25519.getPublicKey(secret);
    const msg = new TextEncoder().encode("job 1: result abc");
    const sig = ed25519.sign(msg, secret);
    const ok = run(code, "verify", { input: Uint8Array.from([...sig, ...pk, ...msg]) });
    expect(returned(ok)[0]).toBe(1);
    expect(profileOf(ok).ED25519_VERIFY_BYTE).toBe(
      BigInt(msg.length * ext_costs.ed25519_verify_byte),
    );
    const tampered = Uint8Array.from([...sig, ...pk, ...msg]);
    tampered[tampered.length - 1] = (tampered.at(-1) as number) ^ 1;
    expect(returned(run(code, "verify", { input: tampered }))[0]).toBe(0);
    expect(run(code, "bad_key").aborted).toEqual({
      view: { ExecutionError: "ED25519 signature verification error: invalid public key length" },
      debug: 'HostError(Ed25519VerifyInvalidInput { msg: "invalid public key length" })',
    });
  });
});
