/**
 * Nonces and waits as nearcore's RPC has them: a transaction the chunk drops (its nonce used first
 * by another transaction of the key) is waited for until the polling timeout, then TIMEOUT_ERROR;
 * concurrent sends from one key through near-api-js 7 all land.
 */
import { Account, actions, createTransaction, KeyPairSigner } from "near-api-js";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { fromBase58 } from "../../src/node/encoding.ts";
import type { RpcContext } from "../../src/rpc/context.ts";
import { RpcError } from "../../src/rpc/errors.ts";
import { sendTx } from "../../src/rpc/transactions.ts";
import { ONE_NEAR, rpc, startTestNet, type TestNet } from "./helpers.ts";

let t: TestNet;
// startTestNet's txTimeoutMs.
const TIMEOUT_MS = 3_000;

beforeAll(async () => {
  t = await startTestNet();
});
afterAll(async () => {
  await t.net.stop();
});

describe("nonces and timeouts", () => {
  test("two transactions with one nonce: one executes, the other times out after the wait", async () => {
    const signer = KeyPairSigner.fromSecretKey(t.net.accounts.validator.secretKey as never);
    const publicKey = await signer.getPublicKey();
    const accessKey = await t.provider.viewAccessKey({
      accountId: "test.near",
      publicKey,
      finalityQuery: { finality: "optimistic" },
    } as never);
    const block = await t.provider.viewBlock({ finality: "final" });
    const nonce = BigInt(accessKey.nonce) + 1n;
    const signed = async (amount: bigint) => {
      const tx = createTransaction(
        "test.near",
        publicKey,
        "near",
        nonce,
        [actions.transfer(amount)],
        fromBase58(block.header.hash, "hash"),
      );
      const { signedTransaction } = await signer.signTransaction(tx);
      return Buffer.from(signedTransaction.encode()).toString("base64");
    };
    const [a, b] = [await signed(1n), await signed(2n)];
    // Both reach the pool in one turn of the event loop (valid on arrival), so the chunk takes
    // the first and drops the second.
    const ctx = { node: t.net.node, txTimeoutMs: TIMEOUT_MS } as RpcContext;
    const started = Date.now();
    const first = sendTx({ signed_tx_base64: a, wait_until: "EXECUTED_OPTIMISTIC" }, ctx);
    const second = sendTx({ signed_tx_base64: b, wait_until: "EXECUTED_OPTIMISTIC" }, ctx).then(
      () => null,
      (error: unknown) => ({ error, ms: Date.now() - started }),
    );
    expect(await first).toMatchObject({ status: { SuccessValue: "" } });
    const dropped = await second;
    if (dropped === null) throw new Error("the second transaction with the same nonce landed");
    expect(dropped.error).toBeInstanceOf(RpcError);
    expect((dropped.error as RpcError).body).toMatchObject({
      name: "HANDLER_ERROR",
      cause: { name: "TIMEOUT_ERROR" },
    });
    expect(dropped.ms).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
    // Unknown to the node; sent again over RPC it is InvalidNonce at once.
    const again = await rpc(t.net.rpcUrl, "send_tx", { signed_tx_base64: b });
    expect(again.error?.data).toMatchObject({
      TxExecutionError: { InvalidTxError: { InvalidNonce: {} } },
    });
  });

  test("concurrent sends from one key through near-api-js 7 all land", async () => {
    const account = new Account(
      "test.near",
      t.provider,
      KeyPairSigner.fromSecretKey(t.net.accounts.validator.secretKey as never),
    );
    const before = BigInt((await t.provider.viewAccount({ accountId: "near" } as never)).amount);
    const sends = Array.from({ length: 12 }, (_, i) =>
      account.transfer({ receiverId: "near", amount: BigInt(i + 1) * ONE_NEAR }),
    );
    const results = await Promise.all(sends);
    expect(results.every((r) => r.status !== null && typeof r.status === "object")).toBe(true);
    const after = BigInt((await t.provider.viewAccount({ accountId: "near" } as never)).amount);
    expect(after - before).toBe(78n * ONE_NEAR);
  });
});
