/**
 * Runtime throughput, in-process: `node localnet/test/runtime/bench.ts`.
 * Prints transactions validated and applied per second (transfers; calls through the fake VM).
 */
import { runtimeConfig } from "../../src/config/runtime-config.ts";
import type { SignedTransaction } from "../../src/runtime/types.ts";
import { validateTransaction } from "../../src/runtime/verifier.ts";
import { fakeContract, TGAS } from "./fake-contract.ts";
import {
  accountRecord,
  blockHash,
  GAS_PRICE,
  makeKey,
  NEAR,
  signTx,
  TestChain,
} from "./helpers.ts";

const ACCOUNTS = 200;
const TXS = 10_000;
const PER_BLOCK = 1_000;

const users = Array.from({ length: ACCOUNTS }, (_, i) => ({ id: `user${i}.near`, key: makeKey() }));
const code = Buffer.from([0, 97, 115, 109]).toString("base64");

function build(kind: "transfer" | "call"): SignedTransaction[] {
  const nonces = new Map<string, bigint>();
  return Array.from({ length: TXS }, (_, i) => {
    const user = users[i % ACCOUNTS] as (typeof users)[number];
    const nonce = (nonces.get(user.id) ?? 0n) + 1n;
    nonces.set(user.id, nonce);
    const receiverId =
      kind === "transfer"
        ? (users[(i * 7 + 3) % ACCOUNTS] as (typeof users)[number]).id
        : "app.near";
    return signTx(user.key, {
      signerId: user.id,
      receiverId,
      nonce,
      blockHash: blockHash(1n),
      actions:
        kind === "transfer"
          ? [{ kind: "transfer", deposit: 1n }]
          : [
              {
                kind: "functionCall",
                methodName: "set",
                args: new TextEncoder().encode(`k${i % 50}=v`),
                gas: 10n * TGAS,
                deposit: 0n,
                gasWeight: 0n,
              },
            ],
    });
  });
}

function run(kind: "transfer" | "call"): void {
  const chain = new TestChain(fakeContract, [
    ...users.flatMap((u) => accountRecord(u.id, 1000n * NEAR, u.key)),
    ...accountRecord("app.near", 10n * NEAR, null),
    { Contract: { account_id: "app.near", code } },
  ]);
  const txs = build(kind);
  let t = performance.now();
  for (const tx of txs) {
    validateTransaction(chain.store, tx, {
      config: runtimeConfig,
      gasPrice: GAS_PRICE,
      blockHeight: 2n,
      isBlockHashValid: () => true,
    });
  }
  const validateMs = performance.now() - t;
  t = performance.now();
  let receipts = 0;
  for (let i = 0; i < txs.length; i += PER_BLOCK)
    receipts += chain.block(txs.slice(i, i + PER_BLOCK), { gasLimit: 10n ** 18n }).receiptOutcomes
      .length;
  while (chain.pending.length > 0)
    receipts += chain.block([], { gasLimit: 10n ** 18n }).receiptOutcomes.length;
  const applyMs = performance.now() - t;
  console.log(
    `${kind}: validate ${Math.round((TXS / validateMs) * 1000)} tx/s; apply ${Math.round((TXS / applyMs) * 1000)} tx/s ` +
      `(${receipts} receipts incl. refunds, ${Math.round((receipts / applyMs) * 1000)} receipts/s, ${TXS} txs in blocks of ${PER_BLOCK})`,
  );
}

run("transfer");
run("call");
