import { describe, expect, test } from "vitest";
import { actionFee } from "../../src/vm/gas.ts";
import { config, MemoryExternal, profileOf, run, TGAS, wat } from "./helpers.ts";

const fee = (name: Parameters<typeof actionFee>[1]) => actionFee(config, name);

// Memory: 0 "bob.test.near" (13), 32 "contract.test.near" (18), 64 "cb", 80 "{}", 96 deposit u128.
const CODE = wat(`(module
  (import "env" "promise_create" (func $create (param i64 i64 i64 i64 i64 i64 i64 i64) (result i64)))
  (import "env" "promise_then" (func $then (param i64 i64 i64 i64 i64 i64 i64 i64 i64) (result i64)))
  (import "env" "promise_and" (func $and (param i64 i64) (result i64)))
  (import "env" "promise_batch_create" (func $batch (param i64 i64) (result i64)))
  (import "env" "promise_batch_action_transfer" (func $transfer (param i64 i64)))
  (import "env" "promise_batch_action_function_call_weight" (func $fcw (param i64 i64 i64 i64 i64 i64 i64 i64)))
  (import "env" "promise_return" (func $return (param i64)))
  (import "env" "promise_result" (func $result (param i64 i64) (result i64)))
  (import "env" "promise_results_count" (func $count (result i64)))
  (import "env" "value_return" (func $ret (param i64 i64)))
  (memory 1)
  (data (i32.const 0) "bob.test.near")
  (data (i32.const 32) "contract.test.near")
  (data (i32.const 64) "cb")
  (data (i32.const 80) "{}")
  (data (i32.const 96) "\\05")
  (func (export "call_then")
    (call $return (call $then
      (call $create (i64.const 13) (i64.const 0) (i64.const 2) (i64.const 64) (i64.const 2) (i64.const 80) (i64.const 96) (i64.const 10000000000000))
      (i64.const 18) (i64.const 32) (i64.const 2) (i64.const 64) (i64.const 2) (i64.const 80) (i64.const 200) (i64.const 20000000000000))))
  (func (export "and") (local i64)
    (i64.store (i32.const 300) (call $batch (i64.const 13) (i64.const 0)))
    (i64.store (i32.const 308) (call $batch (i64.const 18) (i64.const 32)))
    (drop (call $then (call $and (i64.const 300) (i64.const 2))
      (i64.const 18) (i64.const 32) (i64.const 2) (i64.const 64) (i64.const 0) (i64.const 80) (i64.const 200) (i64.const 0))))
  (func (export "transfer") (call $transfer (call $batch (i64.const 13) (i64.const 0)) (i64.const 96)))
  (func (export "weights") (local i64)
    (local.set 0 (call $batch (i64.const 13) (i64.const 0)))
    (call $fcw (local.get 0) (i64.const 2) (i64.const 64) (i64.const 0) (i64.const 0) (i64.const 200) (i64.const 0) (i64.const 1))
    (call $fcw (local.get 0) (i64.const 2) (i64.const 64) (i64.const 0) (i64.const 0) (i64.const 200) (i64.const 0) (i64.const 2)))
  (func (export "return_joint")
    (call $return (call $and (i64.const 300) (i64.const 0))))
  (func (export "results")
    (i64.store (i32.const 400) (call $count))
    (i64.store (i32.const 408) (call $result (i64.const 0) (i64.const 1)))
    (i64.store (i32.const 416) (call $result (i64.const 1) (i64.const 1)))
    (i64.store (i32.const 424) (call $result (i64.const 2) (i64.const 1)))
    (call $ret (i64.const 32) (i64.const 400)))
  (func (export "bad_result") (drop (call $result (i64.const 9) (i64.const 1)))))`);

describe("promises", () => {
  test("promise_create + promise_then build receipts with a data dependency", () => {
    const ext = new MemoryExternal();
    const balance = 10n ** 24n;
    const out = run(CODE, "call_then", { accountBalance: balance }, ext);
    expect(out.aborted).toBeNull();
    expect(out.receipts.length).toBe(2);
    const [first, second] = out.receipts;
    expect(first?.receiverId).toBe("bob.test.near");
    expect(first?.actions).toEqual([
      {
        kind: "functionCall",
        methodName: "cb",
        args: new TextEncoder().encode("{}"),
        gas: 10n * TGAS,
        deposit: 5n,
        gasWeight: 0n,
      },
    ]);
    expect(second?.receiverId).toBe("contract.test.near");
    expect(second?.inputDataIds.length).toBe(1);
    expect(first?.outputDataReceivers).toEqual([
      { dataId: second?.inputDataIds[0], receiverId: "contract.test.near" },
    ]);
    expect(out.returnData).toEqual({ kind: "receiptIndex", index: 1 });
    expect(out.balance).toBe(balance - 5n);

    // Send fees burnt now, execution fees and attached gas prepaid.
    const receipt = fee("new_action_receipt");
    const data = fee("new_data_receipt_base");
    const call = fee("function_call_base");
    const perByte = fee("function_call_byte");
    const p = profileOf(out);
    // bob's receipt (not sir), the callback to self (sir) with one data dependency from bob.
    expect(p.NEW_ACTION_RECEIPT).toBe(
      BigInt(receipt.send_not_sir + receipt.send_sir + data.send_not_sir + data.execution),
    );
    expect(p.FUNCTION_CALL_BASE).toBe(BigInt(call.send_not_sir + call.send_sir));
    expect(p.FUNCTION_CALL_BYTE).toBe(BigInt(4 * perByte.send_not_sir + 4 * perByte.send_sir));
    const prepaid =
      BigInt(2 * receipt.execution + 2 * call.execution + 8 * perByte.execution) + 30n * TGAS;
    expect(out.usedGas - out.burntGas).toBe(prepaid);
  });

  test("promise_and joins receipts; promise_then waits on both", () => {
    const out = run(CODE, "and");
    expect(out.aborted).toBeNull();
    expect(out.receipts.length).toBe(3);
    expect(out.receipts[2]?.inputDataIds.length).toBe(2);
    expect(out.receipts[0]?.outputDataReceivers[0]?.receiverId).toBe("contract.test.near");
  });

  test("a joint promise cannot be returned", () => {
    expect(run(CODE, "return_joint").aborted?.debug).toBe("HostError(CannotReturnJointPromise)");
  });

  test("transfers deduct the balance; BalanceExceeded past it", () => {
    const out = run(CODE, "transfer", { accountBalance: 100n });
    expect(out.balance).toBe(95n);
    expect(out.receipts[0]?.actions).toEqual([{ kind: "transfer", deposit: 5n }]);
    expect(profileOf(out).TRANSFER).toBe(BigInt(fee("transfer").send_not_sir));
    expect(run(CODE, "transfer", { accountBalance: 4n }).aborted).toEqual({
      view: { ExecutionError: "Exceeded the account balance." },
      debug: "HostError(BalanceExceeded)",
    });
  });

  test("unused gas goes to weighted function calls", () => {
    const out = run(CODE, "weights");
    expect(out.aborted).toBeNull();
    expect(out.usedGas).toBe(300n * TGAS);
    const [a, b] = out.receipts[0]?.actions ?? [];
    if (a?.kind !== "functionCall" || b?.kind !== "functionCall")
      throw new Error("expected function calls");
    expect(b.gas).toBeGreaterThanOrEqual(2n * a.gas);
    expect(b.gas - 2n * a.gas).toBeLessThan(3n);
    expect(out.usedGas - out.burntGas).toBeGreaterThan(a.gas + b.gas);
  });

  test("promise results: count, success into a register, failure, not ready", () => {
    const out = run(CODE, "results", {
      promiseResults: [
        { kind: "successful", data: new Uint8Array([1, 2]) },
        { kind: "failed" },
        { kind: "notReady" },
      ],
    });
    const v =
      out.returnData.kind === "value"
        ? new DataView(out.returnData.data.buffer, out.returnData.data.byteOffset)
        : null;
    expect([0, 8, 16, 24].map((o) => v?.getBigUint64(o, true))).toEqual([3n, 1n, 2n, 0n]);
    expect(run(CODE, "bad_result").aborted?.debug).toBe(
      "HostError(InvalidPromiseResultIndex { result_idx: 9 })",
    );
  });

  test("value_return pays data receipt bytes for each output data receiver", () => {
    const out = run(CODE, "results", {
      promiseResults: [{ kind: "failed" }, { kind: "failed" }, { kind: "failed" }],
      outputDataReceivers: ["bob.test.near", "contract.test.near"],
    });
    const perByte = fee("new_data_receipt_byte");
    expect(profileOf(out).NEW_DATA_RECEIPT_BYTE).toBe(
      32n * BigInt(perByte.send_not_sir + perByte.execution + perByte.send_sir + perByte.execution),
    );
  });
});
