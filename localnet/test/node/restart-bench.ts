/**
 * Restart cost of a persisted chain: builds a chain of BENCH_TXS transactions (half transfers, half
 * probe.wasm `set` calls writing contract state) through send_tx, then idle blocks, stops the node
 * and starts it again on the same home. Prints throughput with and without the chain log, the
 * log's size and the time a restart takes to resume the chain.
 *   node localnet/test/node/restart-bench.ts
 */
import { mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  Account,
  actions,
  createTransaction,
  JsonRpcProvider,
  KeyPair,
  KeyPairSigner,
} from "near-api-js";
import { chainLogPath, type Localnet, startLocalnet } from "../../src/index.ts";
import { createRuntime } from "../../src/runtime/index.ts";
import { runFunctionCall } from "../../src/vm/index.ts";

const TRANSACTIONS = Number(process.env.BENCH_TXS ?? 2000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 100);
const IDLE_BLOCKS = Number(process.env.BENCH_IDLE_BLOCKS ?? 2000);
const PROBE_WASM = fileURLToPath(new URL("../../../build/contracts/probe.wasm", import.meta.url));
const TGAS = 10n ** 12n;

function start(home: string, persist: boolean): Promise<Localnet> {
  return startLocalnet({
    runtime: createRuntime(runFunctionCall),
    home,
    persist,
    blockIntervalMs: 0,
    txTimeoutMs: 60_000,
  });
}

async function send(url: string, signed: Uint8Array): Promise<void> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      jsonrpc: "2.0",
      id: 1,
      method: "send_tx",
      params: { signed_tx_base64: Buffer.from(signed).toString("base64"), wait_until: "FINAL" },
    }),
  });
  const body = (await response.json()) as { error?: unknown };
  if (body.error) throw new Error(JSON.stringify(body.error));
}

/** Sends the transactions, CONCURRENCY at a time with send_tx FINAL; returns seconds spent sending. */
async function load(net: Localnet): Promise<number> {
  const provider = new JsonRpcProvider({ url: net.rpcUrl });
  const signer = KeyPairSigner.fromSecretKey(net.accounts.validator.secretKey as never);
  const validator = new Account("test.near", provider, signer);
  await validator.createSubAccount({
    accountOrPrefix: "probe",
    publicKey: await signer.getPublicKey(),
    nearToTransfer: 50n * 10n ** 24n,
  });
  const probe = new Account("probe.test.near", provider, signer);
  await probe.signAndSendTransaction({
    receiverId: probe.accountId,
    actions: [actions.deployContract(new Uint8Array(readFileSync(PROBE_WASM)))],
  });
  // One access key per request in flight: requests sent together reach the node in any order,
  // and one key's higher nonce applied first would refuse its lower ones (as nearcore does).
  const lanes = Array.from({ length: CONCURRENCY }, () => KeyPair.fromRandom("ed25519"));
  await validator.signAndSendTransaction({
    receiverId: "test.near",
    actions: lanes.map((lane) => actions.addFullAccessKey(lane.getPublicKey())),
  });
  const nonces = await Promise.all(
    lanes.map(async (lane) => {
      const key = await provider.viewAccessKey({
        accountId: "test.near",
        publicKey: lane.getPublicKey(),
      } as never);
      return BigInt(key.nonce);
    }),
  );
  let seconds = 0;
  for (let sent = 0; sent < TRANSACTIONS; sent += CONCURRENCY) {
    const head = net.node.chain.head.hash;
    const batch: { encode(): Uint8Array }[] = [];
    for (let i = sent; i < Math.min(sent + CONCURRENCY, TRANSACTIONS); i++) {
      const lane = i - sent;
      const nonce = (nonces[lane] as bigint) + 1n;
      nonces[lane] = nonce;
      const [receiver, action] =
        i % 2 === 0
          ? ["near", actions.transfer(1n)]
          : [
              "probe.test.near",
              actions.functionCall("set", { key: `k${i}`, value: `v${i}` }, 30n * TGAS, 0n),
            ];
      const key = lanes[lane] as KeyPair;
      const tx = createTransaction(
        "test.near",
        key.getPublicKey(),
        receiver,
        nonce,
        [action],
        head,
      );
      batch.push((await new KeyPairSigner(key).signTransaction(tx)).signedTransaction);
    }
    // Signed first, then sent together (signing is not timed).
    const begin = performance.now();
    await Promise.all(batch.map((signed) => send(net.rpcUrl, signed.encode())));
    seconds += (performance.now() - begin) / 1000;
  }
  return seconds;
}

for (const persist of [false, true]) {
  const home = join(mkdtempSync(join(tmpdir(), "localnet-restart-bench-")), "home");
  let net = await start(home, persist);
  const seconds = await load(net);
  const idleStart = performance.now();
  for (let i = 0; i < IDLE_BLOCKS; i++) net.node.produceBlock();
  const idleSeconds = (performance.now() - idleStart) / 1000;
  const head = net.node.chain.head.height;
  console.log(
    `${persist ? "persisted" : "in memory"}: ${TRANSACTIONS} tx in ${seconds.toFixed(2)} s = ${(TRANSACTIONS / seconds).toFixed(0)} tx/s; ${IDLE_BLOCKS} empty blocks at ${(IDLE_BLOCKS / idleSeconds).toFixed(0)} blocks/s; head ${head}`,
  );
  await net.stop();
  if (!persist) continue;
  const bytes = statSync(chainLogPath(home)).size;
  const restartStart = performance.now();
  net = await start(home, true);
  const restartMs = performance.now() - restartStart;
  if (net.node.chain.head.height !== head) throw new Error("the restart did not resume the head");
  console.log(
    `restart: resumed ${head} blocks (${(bytes / 2 ** 20).toFixed(1)} MiB of chain log) in ${restartMs.toFixed(0)} ms`,
  );
  await net.stop();
}
