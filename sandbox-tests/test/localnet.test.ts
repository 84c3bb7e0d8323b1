/**
 * near-workspaces against the node it is given (localnet by default): the essentials every
 * contract test in this repository relies on.
 */
import { readFileSync } from "node:fs";
import { KeyPair, type NearAccount, Worker } from "near-workspaces";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { contractCodeHash, contractWasm } from "../src/contracts.ts";

const TGAS = 1_000_000_000_000n;
const ONE_NEAR = 10n ** 24n;

let worker: Worker;
let root: NearAccount;
let alice: NearAccount;
let probe: NearAccount;
let other: NearAccount;

async function balanceOf(account: NearAccount): Promise<bigint> {
  return BigInt((await account.accountView()).amount);
}

beforeAll(async () => {
  worker = await Worker.init();
  root = worker.rootAccount;
  alice = await root.createSubAccount("alice", { initialBalance: 100n * ONE_NEAR });
  probe = await root.createSubAccount("probe", { initialBalance: 50n * ONE_NEAR });
  other = await root.createSubAccount("other", { initialBalance: 50n * ONE_NEAR });
  const wasm = readFileSync(contractWasm("probe"));
  await probe.deploy(wasm);
  await other.deploy(wasm);
});

afterAll(async () => {
  await worker?.tearDown();
});

describe("accounts", () => {
  test("sub-accounts get their initial balance and a full access key", async () => {
    expect(await balanceOf(alice)).toBe(100n * ONE_NEAR);
    const keys = await alice.viewAccessKeys(alice.accountId);
    expect(keys.keys).toHaveLength(1);
    expect(keys.keys[0]?.access_key.permission).toBe("FullAccess");
  });

  test("an account cannot create a sub-account of another account", async () => {
    const before = await balanceOf(alice);
    const result = await alice
      .batch(`x.${probe.accountId}`)
      .createAccount()
      .transfer(1n * ONE_NEAR)
      .transact();
    expect(result.failed).toBe(true);
    expect(JSON.stringify(result.Failure)).toContain("CreateAccountNotAllowed");
    expect(await root.getAccount(`x.${probe.accountId}`).exists()).toBe(false);
    // Only gas was spent: the 1 NEAR transfer came back.
    expect(before - (await balanceOf(alice))).toBeLessThan(ONE_NEAR / 100n);
  });

  test("deleting an account sends its balance to the beneficiary", async () => {
    const temp = await root.createSubAccount("temp", {
      initialBalance: 3n * ONE_NEAR,
    });
    const before = await balanceOf(alice);
    await temp.delete(alice.accountId);
    expect(await temp.exists()).toBe(false);
    const gained = (await balanceOf(alice)) - before;
    expect(gained).toBeGreaterThan(2n * ONE_NEAR);
    expect(gained).toBeLessThanOrEqual(3n * ONE_NEAR);
  });
});

describe("deploy, call and view", () => {
  test("the deployed code hash is the build's", async () => {
    expect((await probe.accountView()).code_hash).toBe(contractCodeHash("probe"));
  });

  test("storage round trip", async () => {
    await alice.call(probe, "set", { key: "greeting", value: "hello" });
    expect(await probe.view("get", { key: "greeting" })).toBe("hello");
    expect(await probe.view("get", { key: "missing" })).toBeNull();
  });

  test("u128 arithmetic is exact", async () => {
    const max = (1n << 128n) - 1n;
    expect(await alice.call(probe, "add_u128", { a: "27670116110564339769", b: "0" })).toBe(
      "27670116110564339769",
    );
    expect(await alice.call(probe, "add_u128", { a: (max - 1n).toString(), b: "1" })).toBe(
      max.toString(),
    );
  });

  test("a view of a missing method fails with MethodNotFound", async () => {
    await expect(probe.view("no_such_method", {})).rejects.toMatchObject({
      type: "MethodNotFound",
    });
  });

  test("NEP-330 source metadata is answered", async () => {
    const metadata = (await probe.view("contract_source_metadata", {})) as {
      standards: { standard: string }[];
    };
    expect(metadata.standards.map((s) => s.standard)).toContain("nep330");
  });

  test("logs of a call come back with the outcome", async () => {
    const result = await alice.callRaw(probe, "log_event", { name: "ping", data: { n: 1 } });
    expect(result.succeeded).toBe(true);
    expect(result.logs).toEqual([
      'EVENT_JSON:{"standard":"probe","version":"1.0.0","event":"ping","data":[{"n":1}]}',
    ]);
  });
});

describe("deposits, rollbacks and refunds", () => {
  test("an attached deposit moves to the contract", async () => {
    const aliceBefore = await balanceOf(alice);
    const probeBefore = await balanceOf(probe);
    const recorded = await alice.call(probe, "deposit", {}, { attachedDeposit: 5n * ONE_NEAR });
    expect(recorded).toBe((5n * ONE_NEAR).toString());
    const aliceSpent = aliceBefore - (await balanceOf(alice));
    expect(aliceSpent).toBeGreaterThanOrEqual(5n * ONE_NEAR);
    expect(aliceSpent).toBeLessThan(5n * ONE_NEAR + ONE_NEAR / 100n);
    // The contract gains the deposit plus its share of the gas reward.
    expect((await balanceOf(probe)) - probeBefore).toBeGreaterThanOrEqual(5n * ONE_NEAR);
  });

  test("a panicking call fails with its message and refunds the deposit", async () => {
    const aliceBefore = await balanceOf(alice);
    const probeBefore = await balanceOf(probe);
    const result = await alice.callRaw(
      probe,
      "panic_with",
      { message: "no such job" },
      { attachedDeposit: 2n * ONE_NEAR },
    );
    expect(result.failed).toBe(true);
    expect(result.receiptFailureMessages.join("\n")).toContain("no such job");
    const aliceSpent = aliceBefore - (await balanceOf(alice));
    expect(aliceSpent).toBeGreaterThan(0n);
    expect(aliceSpent).toBeLessThan(ONE_NEAR / 100n);
    expect(await balanceOf(probe)).toBeGreaterThanOrEqual(probeBefore);
    expect((await balanceOf(probe)) - probeBefore).toBeLessThan(ONE_NEAR / 100n);
  });

  test("a transfer from a contract reaches the receiver", async () => {
    const before = await balanceOf(alice);
    await alice.call(probe, "transfer_to", {
      receiver: alice.accountId,
      amount: ONE_NEAR.toString(),
    });
    const gained = (await balanceOf(alice)) - before;
    expect(gained).toBeGreaterThan(ONE_NEAR - ONE_NEAR / 100n);
    expect(gained).toBeLessThanOrEqual(ONE_NEAR);
  });
});

describe("cross-contract calls", () => {
  test("a callback sees the result of a successful call", async () => {
    const result = await alice.callRaw(
      probe,
      "call_other",
      {
        account: other.accountId,
        method: "add_u128",
        args: { a: "40", b: "2" },
        gas: (30n * TGAS).toString(),
      },
      { gas: 200n * TGAS },
    );
    expect(result.succeeded).toBe(true);
    expect(await probe.view("get_last_result", {})).toEqual({ success: true, value: '"42"' });
  });

  test("a callback sees the failure of a failing call, which rolls back only that receipt", async () => {
    await alice.call(other, "set", { key: "k", value: "before" });
    const result = await alice.callRaw(
      probe,
      "call_other",
      {
        account: other.accountId,
        method: "panic_with",
        args: { message: "callee failed" },
        gas: (30n * TGAS).toString(),
      },
      { gas: 200n * TGAS },
    );
    // The transaction's own receipt and the callback succeed; the inner call failed.
    expect(result.succeeded).toBe(true);
    expect(result.receiptFailureMessages.join("\n")).toContain("callee failed");
    expect(await probe.view("get_last_result", {})).toEqual({ success: false, value: null });
    expect(await other.view("get", { key: "k" })).toBe("before");
  });
});

describe("access keys", () => {
  test("a function-call key may call only its receiver's allowed methods, without deposit", async () => {
    const key = KeyPair.fromRandom("ed25519");
    const restricted = alice.getAccount(alice.accountId);
    await alice
      .batch(alice)
      .addKey(key.getPublicKey(), {
        nonce: 0n,
        permission: {
          functionCall: {
            allowance: 1n * ONE_NEAR,
            receiverId: probe.accountId,
            methodNames: ["set"],
          },
        },
      } as never)
      .transact();

    await restricted.call(probe, "set", { key: "via-key", value: "yes" }, { signWithKey: key });
    expect(await probe.view("get", { key: "via-key" })).toBe("yes");

    await expect(
      restricted.call(probe, "log_event", { name: "x", data: {} }, { signWithKey: key }),
    ).rejects.toMatchObject({ type: "MethodNameMismatch" });
    await expect(
      restricted.call(other, "set", { key: "a", value: "b" }, { signWithKey: key }),
    ).rejects.toMatchObject({ type: "ReceiverMismatch" });
    await expect(
      restricted.call(
        probe,
        "set",
        { key: "a", value: "b" },
        { signWithKey: key, attachedDeposit: 1n },
      ),
    ).rejects.toMatchObject({ type: "DepositWithFunctionCall" });
  });
});

describe("storage staking", () => {
  test("deploying more code than the balance can stake fails and leaves the account as it was", async () => {
    const poor = await root.createSubAccount("poor", {
      initialBalance: 1n * ONE_NEAR,
    });
    const result = await poor
      .batch(poor)
      .deployContract(readFileSync(contractWasm("probe")))
      .transact();
    expect(result.failed).toBe(true);
    expect(JSON.stringify(result.Failure)).toContain("LackBalanceForState");
    expect((await poor.accountView()).code_hash).toBe("11111111111111111111111111111111");
  });

  test("storage_usage grows with contract data and is paid from the contract's balance", async () => {
    const before = await probe.accountView();
    await alice.call(probe, "store_many", { count: 10, size: 100 }, { gas: 100n * TGAS });
    const after = await probe.accountView();
    expect(after.storage_usage - before.storage_usage).toBeGreaterThanOrEqual(10 * 140);
    const balance = await probe.balance();
    expect(BigInt(balance.stateStaked.toString())).toBe(BigInt(after.storage_usage) * 10n ** 19n);
  });
});

describe("state patching and time", () => {
  test("sandbox_patch_state rewrites an account's balance", async () => {
    const view = await alice.accountView();
    await alice.updateAccount({ ...view, amount: (777n * ONE_NEAR).toString() } as never);
    expect(await balanceOf(alice)).toBe(777n * ONE_NEAR);
  });

  test("sandbox_patch_state writes contract data", async () => {
    await probe.patchState("patched-key", "patched-value");
    const state = await probe.viewStateRaw();
    const entry = state.find((e) => Buffer.from(e.key, "base64").toString() === "patched-key");
    expect(entry && Buffer.from(entry.value, "base64").toString()).toBe("patched-value");
  });

  test("fast-forward moves height, time and epoch ahead", async () => {
    const before = (await probe.view("block_info", {})) as { height: string; timestamp: string };
    await worker.provider.fastForward(1_000);
    const after = (await probe.view("block_info", {})) as { height: string; timestamp: string };
    expect(BigInt(after.height) - BigInt(before.height)).toBeGreaterThanOrEqual(1_000n);
    expect(BigInt(after.timestamp)).toBeGreaterThan(BigInt(before.timestamp));
  });
});
