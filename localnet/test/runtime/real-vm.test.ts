/**
 * The runtime with the real VM and the probe contract (build/contracts/probe.wasm, a near-sdk-js
 * contract): calls, panics, cross-contract callbacks, storage staking and token conservation.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { runtimeConfig } from "../../src/config/runtime-config.ts";
import { totalSupply } from "../../src/runtime/balance-checker.ts";
import type { Action, ExecutionOutcome, SignedTransaction } from "../../src/runtime/types.ts";
import { runFunctionCall } from "../../src/vm/index.ts";
import { accountRecord, makeKey, NEAR, signTx, TestChain, TGAS } from "./helpers.ts";

const PROBE = new Uint8Array(
  readFileSync(fileURLToPath(new URL("../../../build/contracts/probe.wasm", import.meta.url))),
);
const alice = makeKey();
const probeKey = makeKey();

let c: TestChain;
let initial: bigint;
let nonce = 1n;

const call = (
  receiverId: string,
  method: string,
  args: unknown,
  deposit = 0n,
  gas = 100n * TGAS,
): SignedTransaction =>
  signTx(alice, {
    signerId: "alice.near",
    receiverId,
    nonce: nonce++,
    actions: [
      {
        kind: "functionCall",
        methodName: method,
        args: new TextEncoder().encode(JSON.stringify(args)),
        gas,
        deposit,
        gasWeight: 0n,
      } satisfies Action,
    ],
  });

const text = (o: ExecutionOutcome | undefined): string =>
  o?.status.kind === "successValue"
    ? new TextDecoder().decode(o.status.value)
    : JSON.stringify(o?.status);

beforeAll(() => {
  c = new TestChain(runFunctionCall, [
    ...accountRecord("alice.near", 1000n * NEAR, alice),
    ...accountRecord("probe.near", 100n * NEAR, probeKey),
    ...accountRecord("other.near", 100n * NEAR, probeKey),
    { Contract: { account_id: "probe.near", code: Buffer.from(PROBE).toString("base64") } },
    { Contract: { account_id: "other.near", code: Buffer.from(PROBE).toString("base64") } },
  ]);
  initial = totalSupply(c.store, runtimeConfig, []);
});

describe("runtime with the real VM (probe contract)", () => {
  it("set then get through transactions; the contract earns 30% of the function-call gas", () => {
    const before = c.balance("probe.near");
    const set = call("probe.near", "set", { key: "a", value: "hello" });
    c.run([set]);
    const outcome = c.trace(set)[1];
    expect(outcome?.status).toEqual({ kind: "successValue", value: new Uint8Array() });
    expect(outcome?.profile.some((e) => e.cost === "WASM_INSTRUCTION")).toBe(true);
    expect(c.balance("probe.near")).toBeGreaterThan(before);
    const get = call("probe.near", "get", { key: "a" });
    c.run([get]);
    expect(text(c.trace(get)[1])).toBe('"hello"');
  });

  it("a panic fails the receipt with nearcore's error JSON and refunds the deposit", () => {
    const before = c.balance("alice.near");
    const tx = call("probe.near", "deposit", {}, 5n * NEAR);
    const panic = call("probe.near", "panic_with", { message: "nope" }, 0n);
    c.run([tx, panic]);
    expect(text(c.trace(tx)[1])).toBe('"5000000000000000000000000"');
    expect(c.trace(panic)[1]?.status).toEqual({
      kind: "failure",
      error: {
        ActionError: {
          index: 0,
          kind: { FunctionCallError: { ExecutionError: "Smart contract panicked: nope" } },
        },
      },
    });
    const burnt = [...c.trace(tx), ...c.trace(panic)].reduce((s, o) => s + o.tokensBurnt, 0n);
    expect(c.balance("alice.near")).toBe(before - 5n * NEAR - burnt);
  });

  it("call_other: the callback runs after the other contract and sees its result", () => {
    const tx = call("probe.near", "call_other", {
      account: "other.near",
      method: "add_u128",
      args: { a: "40", b: "2" },
      gas: String(20n * TGAS),
    });
    c.run([tx]);
    const outcomes = c.trace(tx);
    expect(outcomes.map((o) => o.executorId).slice(0, 4)).toEqual([
      "alice.near",
      "probe.near",
      "other.near",
      "probe.near",
    ]);
    const callback = outcomes[3];
    expect(JSON.parse(text(callback))).toEqual({ success: true, value: '"42"' });
    expect(outcomes[1]?.status).toEqual({ kind: "successReceiptId", receiptId: callback?.id });
    const failing = call("probe.near", "call_other", {
      account: "other.near",
      method: "panic_with",
      args: { message: "inner" },
      gas: String(20n * TGAS),
    });
    c.run([failing]);
    const failedTrace = c.trace(failing);
    expect(failedTrace[2]?.status.kind).toBe("failure");
    const failedCallback = failedTrace[3];
    expect(JSON.parse(text(failedCallback))).toEqual({ success: false, value: null });
  });

  it("storage beyond the balance fails with LackBalanceForState and writes nothing", () => {
    const poor = makeKey();
    c.store.applyRecords([
      ...accountRecord("poor.near", 3n * NEAR, poor),
      { Contract: { account_id: "poor.near", code: Buffer.from(PROBE).toString("base64") } },
    ]);
    const tx = call("poor.near", "store_many", { count: 10, size: 10_000 });
    c.run([tx]);
    const status = c.trace(tx)[1]?.status;
    expect(status).toMatchObject({
      kind: "failure",
      error: {
        ActionError: { index: null, kind: { LackBalanceForState: { account_id: "poor.near" } } },
      },
    });
    expect(c.store.listData("poor.near", new TextEncoder().encode("many:"))).toEqual([]);
  });

  it("conserves tokens across all of the above", () => {
    expect(c.pending).toEqual([]);
    const patched = 3n * NEAR;
    expect(totalSupply(c.store, runtimeConfig, c.pending) + c.burnt).toBe(initial + patched);
  });
});
