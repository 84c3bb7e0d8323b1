/** The neardata endpoints: StreamerMessages with every transaction, receipt and outcome of a block. */
import { afterAll, beforeAll, expect, test } from "vitest";
import { ONE_NEAR, randomKey, rpcResult, startTestNet, type TestNet } from "../rpc/helpers.ts";

let t: TestNet;

interface Outcome {
  id: string;
  block_hash: string;
  outcome: {
    logs: string[];
    status: Record<string, unknown>;
    receipt_ids: string[];
    executor_id: string;
  };
}
interface StreamerMessage {
  block: { header: { height: number; hash: string } };
  shards: {
    shard_id: number;
    chunk: {
      transactions: { transaction: { hash: string }; outcome: { execution_outcome: Outcome } }[];
      receipts: { receipt_id: string }[];
    };
    receipt_execution_outcomes: {
      execution_outcome: Outcome;
      receipt: { receipt_id: string; receiver_id: string };
      tx_hash: string | null;
    }[];
    state_changes: unknown[];
  }[];
}

async function get(path: string): Promise<Response> {
  return fetch(`${t.net.rpcUrl}${path}`, { redirect: "manual" });
}

async function message(height: number | bigint): Promise<StreamerMessage | null> {
  const response = await get(`/v0/block/${height}`);
  expect(response.status).toBe(200);
  return (await response.json()) as StreamerMessage | null;
}

beforeAll(async () => {
  t = await startTestNet();
});

afterAll(async () => {
  await t?.net.stop();
});

test("a transaction and the receipt it produced appear, with outcomes, logs and the transaction hash", async () => {
  const result = await t.validator.createSubAccount({
    accountOrPrefix: "bob",
    publicKey: randomKey().getPublicKey(),
    nearToTransfer: 2n * ONE_NEAR,
  });
  const txHash = result.transaction_outcome.id;
  const receiptId = result.receipts_outcome[0]?.id;
  const txBlock = await rpcResult<{ header: { height: number } }>(t.net.rpcUrl, "block", {
    block_id: result.transaction_outcome.block_hash,
  });
  const receiptBlock = await rpcResult<{ header: { height: number } }>(t.net.rpcUrl, "block", {
    block_id: result.receipts_outcome[0]?.block_hash,
  });

  const first = await message(txBlock.header.height);
  const shard = first?.shards[0];
  expect(shard?.shard_id).toBe(0);
  const included = shard?.chunk.transactions.find((x) => x.transaction.hash === txHash);
  expect(included?.outcome.execution_outcome.outcome.status).toEqual({
    SuccessReceiptId: receiptId,
  });

  const second = await message(receiptBlock.header.height);
  const executed = second?.shards[0]?.receipt_execution_outcomes.find(
    (r) => r.receipt.receipt_id === receiptId,
  );
  expect(executed?.receipt.receiver_id).toBe("bob.test.near");
  expect(executed?.execution_outcome.outcome.logs).toEqual([`received ${2n * ONE_NEAR}`]);
  expect(executed?.execution_outcome.outcome.status).toEqual({ SuccessValue: "" });
  expect(executed?.tx_hash).toBe(txHash);
  expect(second?.shards[0]?.chunk.receipts.map((r) => r.receipt_id)).toContain(receiptId);
  expect(second?.shards[0]?.state_changes.length).toBeGreaterThan(0);
});

test("last_block/final and first_block redirect to block paths; skipped heights are null", async () => {
  const final = await get("/v0/last_block/final");
  expect(final.status).toBe(302);
  const finalBlock = await rpcResult<{ header: { height: number } }>(t.net.rpcUrl, "block", {
    finality: "final",
  });
  expect(final.headers.get("location")).toBe(`/v0/block/${finalBlock.header.height}`);
  const first = await get("/v0/first_block");
  expect(first.headers.get("location")).toBe("/v0/block/0");
  expect((await message(0))?.block.header.height).toBe(0);

  const head = await rpcResult<{ header: { height: number } }>(t.net.rpcUrl, "block", {
    finality: "optimistic",
  });
  const before = head.header.height;
  await rpcResult(t.net.rpcUrl, "sandbox_fast_forward", { delta_height: 50 });
  expect(await message(before + 10)).toBeNull();
  expect((await message(before + 50))?.block.header.height).toBe(before + 50);
});

test("a height far beyond the final head is 404 BLOCK_DOES_NOT_EXIST; a malformed one is 400", async () => {
  const far = await get("/v0/block/99999999");
  expect(far.status).toBe(404);
  expect(await far.json()).toEqual({
    error: "The block is too far in the future",
    type: "BLOCK_DOES_NOT_EXIST",
  });
  expect((await get("/v0/block/abc")).status).toBe(400);
});

test("a height just above the final head is answered once it is produced", async () => {
  const final = await rpcResult<{ header: { height: number } }>(t.net.rpcUrl, "block", {
    finality: "final",
  });
  const pending = message(final.header.height + 3);
  // Three more blocks with work make that height final.
  t.net.node.produceBlock();
  t.net.node.produceBlock();
  t.net.node.produceBlock();
  t.net.node.produceBlock();
  t.net.node.produceBlock();
  expect((await pending)?.block.header.height).toBe(final.header.height + 3);
});
