/**
 * A persisted chain on the real runtime and VM survives a restart: the same head, blocks, chunks,
 * transaction statuses, state (now and at an old height), state changes and stream messages, the
 * fast-forward clock, and a receipt left waiting for data when the node stopped.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Account, actions, JsonRpcProvider, KeyPairSigner } from "near-api-js";
import { afterEach, describe, expect, test } from "vitest";
import { type Localnet, startLocalnet } from "../../src/index.ts";
import { createRuntime, MemoryStateStore } from "../../src/runtime/index.ts";
import { runFunctionCall } from "../../src/vm/index.ts";
import { ONE_NEAR, randomKey, rpcResult } from "../rpc/helpers.ts";

const PROBE_WASM = fileURLToPath(new URL("../../../build/contracts/probe.wasm", import.meta.url));
const TGAS = 10n ** 12n;

let running: Localnet | null = null;
const folders: string[] = [];

afterEach(async () => {
  await running?.stop();
  running = null;
  for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
});

/** A new home in a temporary folder, removed after the test. */
function newHome(): string {
  const folder = mkdtempSync(join(tmpdir(), "localnet-persist-"));
  folders.push(folder);
  return join(folder, "home");
}

async function start(home: string, persist?: boolean): Promise<Localnet> {
  running = await startLocalnet({
    runtime: createRuntime(runFunctionCall),
    home,
    blockIntervalMs: 0,
    txTimeoutMs: 20_000,
    ...(persist === undefined ? {} : { persist }),
  });
  return running;
}

async function stop(net: Localnet): Promise<void> {
  await net.stop();
  running = null;
}

function validatorOf(net: Localnet): Account {
  return new Account(
    "test.near",
    new JsonRpcProvider({ url: net.rpcUrl }),
    KeyPairSigner.fromSecretKey(net.accounts.validator.secretKey as never),
  );
}

async function deployProbe(net: Localnet, prefix: string): Promise<Account> {
  const key = randomKey();
  await validatorOf(net).createSubAccount({
    accountOrPrefix: prefix,
    publicKey: key.getPublicKey(),
    nearToTransfer: 20n * ONE_NEAR,
  });
  const probe = new Account(
    `${prefix}.test.near`,
    new JsonRpcProvider({ url: net.rpcUrl }),
    new KeyPairSigner(key),
  );
  await probe.signAndSendTransaction({
    receiverId: probe.accountId,
    actions: [actions.deployContract(new Uint8Array(readFileSync(PROBE_WASM)))],
  });
  return probe;
}

function callOther(account: string) {
  return actions.functionCall(
    "call_other",
    {
      account,
      method: "log_event",
      args: { name: "ping", data: { n: 1 } },
      gas: (30n * TGAS).toString(),
    },
    200n * TGAS,
    0n,
  );
}

async function streamMessage(net: Localnet, height: number): Promise<unknown> {
  const response = await fetch(`${net.rpcUrl}/v0/block/${height}`);
  expect(response.status).toBe(200);
  return response.json();
}

interface Marks {
  setTx: string;
  setHeight: number;
  crossTx: string;
  crossHeight: number;
  probe: string;
}

/** Everything a client could ask about the chain's past, as the node answers it. */
async function observe(net: Localnet, m: Marks): Promise<Record<string, unknown>> {
  const url = net.rpcUrl;
  const viewState = (reference: Record<string, unknown>) =>
    rpcResult(url, "query", {
      request_type: "view_state",
      account_id: m.probe,
      prefix_base64: "",
      ...reference,
    });
  return {
    head: await rpcResult(url, "block", { finality: "optimistic" }),
    final: await rpcResult(url, "block", { finality: "final" }),
    setBlock: await rpcResult(url, "block", { block_id: m.setHeight }),
    setChunk: await rpcResult(url, "chunk", { block_id: m.setHeight, shard_id: 0 }),
    setTx: await rpcResult(url, "EXPERIMENTAL_tx_status", {
      tx_hash: m.setTx,
      sender_account_id: m.probe,
      wait_until: "FINAL",
    }),
    crossTx: await rpcResult(url, "tx", {
      tx_hash: m.crossTx,
      sender_account_id: m.probe,
      wait_until: "FINAL",
    }),
    stateAtSet: await viewState({ block_id: m.setHeight }),
    stateNow: await viewState({ finality: "final" }),
    account: await rpcResult(url, "query", {
      request_type: "view_account",
      account_id: m.probe,
      finality: "final",
    }),
    validatorAtSet: await rpcResult(url, "query", {
      request_type: "view_account",
      account_id: "test.near",
      block_id: m.setHeight,
    }),
    changes: await rpcResult(url, "EXPERIMENTAL_changes_in_block", { block_id: m.setHeight }),
    sum: await rpcResult(url, "query", {
      request_type: "call_function",
      account_id: m.probe,
      method_name: "add_u128",
      args_base64: Buffer.from(JSON.stringify({ a: "1", b: "2" })).toString("base64"),
      finality: "final",
    }),
    streamSet: await streamMessage(net, m.setHeight),
    streamCross: await streamMessage(net, m.crossHeight + 1),
  };
}

describe.skipIf(!existsSync(PROBE_WASM))("a persisted chain on the real runtime", () => {
  test("a restart answers for the past exactly as before, then goes on from the same head", async () => {
    const home = newHome();
    let net = await start(home, true);
    let probe = await deployProbe(net, "probe");
    const set = await probe.signAndSendTransaction({
      receiverId: probe.accountId,
      actions: [actions.functionCall("set", { key: "a", value: "hello" }, 30n * TGAS, 0n)],
      waitUntil: "FINAL",
    });
    const cross = await probe.signAndSendTransaction({
      receiverId: probe.accountId,
      actions: [callOther(probe.accountId)],
      waitUntil: "FINAL",
    });
    const heightOf = async (hash: string) =>
      (await rpcResult<{ header: { height: number } }>(net.rpcUrl, "block", { block_id: hash }))
        .header.height;
    const marks: Marks = {
      setTx: set.transaction_outcome.id,
      setHeight: await heightOf(set.transaction_outcome.block_hash),
      crossTx: cross.transaction_outcome.id,
      crossHeight: await heightOf(cross.transaction_outcome.block_hash),
      probe: probe.accountId,
    };
    await rpcResult(net.rpcUrl, "sandbox_patch_state", {
      records: [
        {
          Data: {
            account_id: probe.accountId,
            data_key: Buffer.from("kv:patched").toString("base64"),
            value: Buffer.from("yes").toString("base64"),
          },
        },
      ],
    });
    await rpcResult(net.rpcUrl, "sandbox_fast_forward", { delta_height: 1000 });
    const before = await observe(net, marks);
    await stop(net);

    net = await start(home);
    expect(net.chainLog?.droppedBytes).toBe(0);
    expect(await observe(net, marks)).toEqual(before);
    probe = new Account(
      probe.accountId,
      new JsonRpcProvider({ url: net.rpcUrl }),
      probe.getSigner() as KeyPairSigner,
    );

    // The chain goes on: the next block follows the old head, its clock still fast-forwarded.
    const head = (before.head as { header: { height: number; timestamp_nanosec: string } }).header;
    const again = await probe.signAndSendTransaction({
      receiverId: probe.accountId,
      actions: [actions.functionCall("set", { key: "b", value: "again" }, 30n * TGAS, 0n)],
      waitUntil: "FINAL",
    });
    const next = await rpcResult<{ header: { height: number; timestamp_nanosec: string } }>(
      net.rpcUrl,
      "block",
      { block_id: again.transaction_outcome.block_hash },
    );
    expect(next.header.height).toBe(head.height + 1);
    expect(BigInt(next.header.timestamp_nanosec)).toBeGreaterThan(
      BigInt(Date.now()) * 1_000_000n + 900n * 1_000_000_000n,
    );
    const keys = await rpcResult<{ values: { key: string }[] }>(net.rpcUrl, "query", {
      request_type: "view_state",
      account_id: probe.accountId,
      prefix_base64: Buffer.from("kv:").toString("base64"),
      finality: "final",
    });
    expect(keys.values.map((v) => Buffer.from(v.key, "base64").toString())).toEqual([
      "kv:a",
      "kv:b",
      "kv:patched",
    ]);
  }, 120_000);

  test("a receipt waiting for data when the node stops runs after the restart", async () => {
    const home = newHome();
    let net = await start(home, true);
    const probe = await deployProbe(net, "probe");
    const state = net.node.state as MemoryStateStore;
    expect(state).toBeInstanceOf(MemoryStateStore);
    // Stop right after the block that leaves the callback postponed, before its data arrives.
    const stopped = new Promise<void>((resolve) => {
      net.node.events.on("block", () => {
        if (state.columns.postponedReceipt.current.size > 0 && !net.node.stopped) {
          net.node.stop();
          resolve();
        }
      });
    });
    const signed = await probe.createSignedTransaction({
      receiverId: probe.accountId,
      actions: [callOther(probe.accountId)],
    });
    const txHash = await rpcResult<string>(net.rpcUrl, "broadcast_tx_async", [
      Buffer.from(signed.encode()).toString("base64"),
    ]);
    await stopped;
    await stop(net);

    net = await start(home);
    const result = await rpcResult<{ status: { SuccessValue?: string } }>(
      net.rpcUrl,
      "EXPERIMENTAL_tx_status",
      { tx_hash: txHash, sender_account_id: probe.accountId, wait_until: "FINAL" },
    );
    const value = JSON.parse(Buffer.from(result.status.SuccessValue ?? "", "base64").toString());
    expect(value).toMatchObject({ success: true });
    expect((net.node.state as MemoryStateStore).columns.postponedReceipt.current.size).toBe(0);
  }, 120_000);
});
