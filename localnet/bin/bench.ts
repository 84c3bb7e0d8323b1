/**
 * localnet throughput: signed transfers through JSON-RPC (send_tx, wait_until FINAL) and empty
 * block production. Prints transactions/s and blocks/s.  Run: npm run bench -w localnet
 */
import { actions, createTransaction, JsonRpcProvider, KeyPairSigner } from "near-api-js";
import { startLocalnet } from "../src/index.ts";
import { createRuntime } from "../src/runtime/index.ts";
import { runFunctionCall } from "../src/vm/index.ts";

const TRANSACTIONS = Number(process.env.BENCH_TXS ?? 2000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 100);
const BLOCKS = Number(process.env.BENCH_BLOCKS ?? 5000);

const net = await startLocalnet({ runtime: createRuntime(runFunctionCall), blockIntervalMs: 0 });
try {
  const provider = new JsonRpcProvider({ url: net.rpcUrl });
  const signer = KeyPairSigner.fromSecretKey(net.accounts.validator.secretKey as never);
  const publicKey = await signer.getPublicKey();
  const key = await provider.viewAccessKey({ accountId: "test.near", publicKey } as never);
  let nonce = BigInt(key.nonce);
  // Signed ahead of time, each batch against the head it will be sent at (a transaction's block
  // hash expires after 100 blocks): batches are signed while the previous one runs.
  const signBatch = async (size: number): Promise<string[]> => {
    const head = net.node.chain.head.hash;
    const batch: string[] = [];
    for (let i = 0; i < size; i++) {
      nonce += 1n;
      const tx = createTransaction(
        "test.near",
        publicKey,
        "near",
        nonce,
        [actions.transfer(1n)],
        head,
      );
      batch.push(
        Buffer.from((await signer.signTransaction(tx)).signedTransaction.encode()).toString(
          "base64",
        ),
      );
    }
    return batch;
  };
  const send = async (base64: string) => {
    const response = await fetch(net.rpcUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 1,
        method: "send_tx",
        params: { signed_tx_base64: base64, wait_until: "FINAL" },
      }),
    });
    const body = (await response.json()) as { error?: unknown };
    if (body.error) throw new Error(JSON.stringify(body.error));
  };
  const heightBefore = net.node.chain.head.height;
  let signing = 0;
  let sending = 0;
  for (let sent = 0; sent < TRANSACTIONS; sent += CONCURRENCY) {
    const signStart = performance.now();
    const batch = await signBatch(Math.min(CONCURRENCY, TRANSACTIONS - sent));
    const sendStart = performance.now();
    signing += sendStart - signStart;
    await Promise.all(batch.map(send));
    sending += performance.now() - sendStart;
  }
  const txSeconds = sending / 1000;
  const txBlocks = net.node.chain.head.height - heightBefore;
  console.log(
    `transfers: ${TRANSACTIONS} in ${txSeconds.toFixed(2)} s = ${(TRANSACTIONS / txSeconds).toFixed(0)} tx/s (send_tx FINAL, ${CONCURRENCY} in flight, ${txBlocks} blocks; signing excluded: ${(signing / 1000).toFixed(2)} s)`,
  );

  const blockStart = performance.now();
  for (let i = 0; i < BLOCKS; i++) net.node.produceBlock();
  const blockSeconds = (performance.now() - blockStart) / 1000;
  console.log(
    `empty blocks: ${BLOCKS} in ${blockSeconds.toFixed(2)} s = ${(BLOCKS / blockSeconds).toFixed(0)} blocks/s`,
  );
} finally {
  await net.stop();
}
