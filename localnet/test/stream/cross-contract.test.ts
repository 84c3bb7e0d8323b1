/**
 * The block stream of a cross-contract call on the real runtime and VM: probe.call_other calls
 * other.log_event and then its own on_result callback. Every receipt of the transaction appears in
 * some StreamerMessage with its outcome, logs and status, and names the transaction.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Account, actions, KeyPairSigner } from "near-api-js";
import { afterAll, beforeAll, expect, test } from "vitest";
import { createRuntime } from "../../src/runtime/index.ts";
import { runFunctionCall } from "../../src/vm/index.ts";
import { ONE_NEAR, randomKey, rpcResult, startTestNet, type TestNet } from "../rpc/helpers.ts";

const PROBE_WASM = fileURLToPath(new URL("../../../build/contracts/probe.wasm", import.meta.url));
const TGAS = 10n ** 12n;

let t: TestNet;

interface ExecutedReceipt {
  execution_outcome: {
    id: string;
    outcome: { logs: string[]; status: unknown; executor_id: string };
  };
  receipt: { receipt_id: string };
  tx_hash: string | null;
}

async function deployProbe(prefix: string): Promise<Account> {
  const key = randomKey();
  await t.validator.createSubAccount({
    accountOrPrefix: prefix,
    publicKey: key.getPublicKey(),
    nearToTransfer: 20n * ONE_NEAR,
  });
  const account = new Account(`${prefix}.test.near`, t.provider, new KeyPairSigner(key));
  await account.signAndSendTransaction({
    receiverId: account.accountId,
    actions: [actions.deployContract(new Uint8Array(readFileSync(PROBE_WASM)))],
  });
  return account;
}

beforeAll(async () => {
  t = await startTestNet(createRuntime(runFunctionCall));
}, 60_000);

afterAll(async () => {
  await t?.net.stop();
});

test("every receipt of a cross-contract call is in the stream with its outcome, logs and status", async () => {
  const probe = await deployProbe("probe");
  await deployProbe("other");
  const result = await probe.signAndSendTransaction({
    receiverId: probe.accountId,
    actions: [
      actions.functionCall(
        "call_other",
        {
          account: "other.test.near",
          method: "log_event",
          args: { name: "ping", data: { n: 1 } },
          gas: (30n * TGAS).toString(),
        },
        200n * TGAS,
        0n,
      ),
    ],
    waitUntil: "FINAL",
  });
  const txHash = result.transaction_outcome.id;
  const expected = new Map(result.receipts_outcome.map((r) => [r.id, r.outcome]));
  expect(expected.size).toBeGreaterThanOrEqual(3);

  const first = await rpcResult<{ header: { height: number } }>(t.net.rpcUrl, "block", {
    block_id: result.transaction_outcome.block_hash,
  });
  const last = await rpcResult<{ header: { height: number } }>(t.net.rpcUrl, "block", {
    finality: "final",
  });
  const streamed = new Map<string, ExecutedReceipt>();
  let transactionSeen = false;
  for (let height = first.header.height; height <= last.header.height; height++) {
    const response = await fetch(`${t.net.rpcUrl}/v0/block/${height}`);
    const message = (await response.json()) as {
      shards: {
        chunk: { transactions: { transaction: { hash: string } }[] };
        receipt_execution_outcomes: ExecutedReceipt[];
      }[];
    } | null;
    if (!message) continue;
    const shard = message.shards[0];
    if (shard?.chunk.transactions.some((x) => x.transaction.hash === txHash))
      transactionSeen = true;
    for (const executed of shard?.receipt_execution_outcomes ?? [])
      streamed.set(executed.receipt.receipt_id, executed);
  }
  expect(transactionSeen).toBe(true);
  for (const [id, outcome] of expected) {
    const executed = streamed.get(id);
    expect(executed, `receipt ${id}`).toBeDefined();
    expect(executed?.execution_outcome.outcome.logs).toEqual(outcome.logs);
    expect(executed?.execution_outcome.outcome.status).toEqual(outcome.status);
    expect(executed?.execution_outcome.outcome.executor_id).toBe(outcome.executor_id);
    expect(executed?.tx_hash).toBe(txHash);
  }
  const logs = [...streamed.values()].flatMap((r) => r.execution_outcome.outcome.logs);
  expect(logs).toContain(
    'EVENT_JSON:{"standard":"probe","version":"1.0.0","event":"ping","data":[{"n":1}]}',
  );
}, 60_000);
