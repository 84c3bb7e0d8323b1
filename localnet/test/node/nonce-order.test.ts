/** Transactions of one access key that arrive out of nonce order all execute, lowest nonce first. */
import { actions, createTransaction, type KeyPairSigner } from "near-api-js";
import { afterAll, beforeAll, expect, test } from "vitest";
import { toBase58 } from "../../src/node/encoding.ts";
import { decodeSignedTransaction } from "../../src/runtime/index.ts";
import { rpcResult, startTestNet, type TestNet } from "../rpc/helpers.ts";

let t: TestNet;

beforeAll(async () => {
  t = await startTestNet();
});

afterAll(async () => {
  await t?.net.stop();
});

test("a higher nonce submitted first does not invalidate the lower one in the same block", async () => {
  const signer = t.validator.getSigner() as KeyPairSigner;
  const publicKey = await signer.getPublicKey();
  const key = await t.provider.viewAccessKey({ accountId: "test.near", publicKey } as never);
  const head = t.net.node.chain.head;
  const signed = async (nonce: bigint) => {
    const tx = createTransaction(
      "test.near",
      publicKey,
      "near",
      nonce,
      [actions.transfer(1n)],
      head.hash,
    );
    return decodeSignedTransaction((await signer.signTransaction(tx)).signedTransaction.encode());
  };
  const base = BigInt(key.nonce);
  const later = await signed(base + 2n);
  const earlier = await signed(base + 1n);
  t.net.node.submit(later);
  t.net.node.submit(earlier);
  for (const tx of [earlier, later]) {
    const result = await rpcResult<{
      status: unknown;
      transaction_outcome: { block_hash: string };
    }>(t.net.rpcUrl, "tx", {
      tx_hash: toBase58(tx.hash),
      sender_account_id: "test.near",
      wait_until: "FINAL",
    });
    expect(result.status).toEqual({ SuccessValue: "" });
  }
  const block = t.net.node.chain.transaction(earlier.hash)?.block;
  expect(block?.chunk.transactions.map((x) => x.transaction.nonce)).toEqual([base + 1n, base + 2n]);
});
