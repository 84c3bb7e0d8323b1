/**
 * Runtime throughput, in-process: `node localnet/test/runtime/bench.ts`.
 * Prints transactions validated and applied per second: transfers, calls through the fake VM,
 * and calls of the probe contract (build/contracts/probe.wasm) through the real VM.
 */

import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { runtimeConfig } from "../../src/config/runtime-config.ts";
import type { SignedTransaction } from "../../src/runtime/types.ts";
import { validateTransaction } from "../../src/runtime/verifier.ts";
import { runFunctionCall } from "../../src/vm/index.ts";
import type { RunFunctionCall } from "../../src/vm/types.ts";
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
const PER_BLOCK = 1_000;

const users = Array.from({ length: ACCOUNTS }, (_, i) => ({ id: `user${i}.near`, key: makeKey() }));
const fakeCode = Buffer.from([0, 97, 115, 109]).toString("base64");
const probeCode = readFileSync(
  fileURLToPath(new URL("../../../build/contracts/probe.wasm", import.meta.url)),
).toString("base64");

type Kind = "transfer" | "call" | "probe";

function build(kind: Kind, count: number): SignedTransaction[] {
  const nonces = new Map<string, bigint>();
  return Array.from({ length: count }, (_, i) => {
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
                args: new TextEncoder().encode(
                  kind === "probe"
                    ? JSON.stringify({ key: `k${i % 50}`, value: "v" })
                    : `k${i % 50}=v`,
                ),
                gas: (kind === "probe" ? 50n : 10n) * TGAS,
                deposit: 0n,
                gasWeight: 0n,
              },
            ],
    });
  });
}

function run(kind: Kind, vm: RunFunctionCall, count: number): void {
  const code = kind === "probe" ? probeCode : fakeCode;
  const chain = new TestChain(vm, [
    ...users.flatMap((u) => accountRecord(u.id, 1000n * NEAR, u.key)),
    ...accountRecord("app.near", 10n * NEAR, null),
    { Contract: { account_id: "app.near", code } },
  ]);
  const txs = build(kind, count);
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
    `${kind}: validate ${Math.round((count / validateMs) * 1000)} tx/s; apply ${Math.round((count / applyMs) * 1000)} tx/s ` +
      `(${receipts} receipts incl. refunds, ${Math.round((receipts / applyMs) * 1000)} receipts/s, ${count} txs in blocks of ${PER_BLOCK})`,
  );
}

run("transfer", fakeContract, 10_000);
run("call", fakeContract, 10_000);
run("probe", runFunctionCall, 1_000);
