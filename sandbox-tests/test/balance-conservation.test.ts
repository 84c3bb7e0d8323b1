/**
 * No yoctoNEAR appears or disappears: after a random mix of transfers, calls, failures,
 * cross-contract calls, deploys and deletions, the balances of all accounts plus every token
 * burnt as gas equal the genesis supply, and each block's total_supply agrees.
 */
import { readFileSync } from "node:fs";
import { type NearAccount, Worker } from "near-workspaces";
import { afterAll, beforeAll, expect, test } from "vitest";
import { contractWasm } from "../src/contracts.ts";
import { rpc } from "../src/rpc.ts";

const ONE_NEAR = 10n ** 24n;
const TGAS = 1_000_000_000_000n;

let worker: Worker;
let root: NearAccount;

beforeAll(async () => {
  worker = await Worker.init();
  root = worker.rootAccount;
});

afterAll(async () => {
  await worker?.tearDown();
});

/** A small deterministic generator, so a failing run can be replayed. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

interface BlockView {
  header: { height: number; total_supply: string };
  chunks: { balance_burnt: string }[];
}

async function blockAt(height: number): Promise<BlockView | null> {
  try {
    return await rpc<BlockView>(worker, "block", { block_id: height });
  } catch {
    return null; // a skipped height
  }
}

test("balances plus burnt tokens always equal the genesis supply", async () => {
  const wasm = readFileSync(contractWasm("probe"));
  const accounts: NearAccount[] = [];
  for (const name of ["a", "b", "c"]) {
    accounts.push(await root.createSubAccount(name, { initialBalance: 30n * ONE_NEAR }));
  }
  const contract = await root.createSubAccount("contract", {
    initialBalance: 30n * ONE_NEAR,
  });
  await contract.deploy(wasm);
  const doomed = await root.createSubAccount("doomed", {
    initialBalance: 5n * ONE_NEAR,
  });

  const next = random(20261123);
  const pick = <T>(items: T[]): T => items[Math.floor(next() * items.length)] as T;
  for (let i = 0; i < 30; i++) {
    const sender = pick(accounts);
    const amount = BigInt(Math.floor(next() * 1000)) * (ONE_NEAR / 1000n);
    switch (Math.floor(next() * 5)) {
      case 0:
        await sender.transfer(pick(accounts), amount);
        break;
      case 1:
        await sender.callRaw(contract, "deposit", {}, { attachedDeposit: amount });
        break;
      case 2:
        await sender.callRaw(
          contract,
          "panic_with",
          { message: "no" },
          { attachedDeposit: amount },
        );
        break;
      case 3:
        await sender.callRaw(
          contract,
          "call_other",
          {
            account: contract.accountId,
            method: "panic_with",
            args: { message: "x" },
            gas: (20n * TGAS).toString(),
          },
          { gas: 150n * TGAS, attachedDeposit: amount },
        );
        break;
      default:
        await sender.callRaw(contract, "transfer_to", {
          receiver: pick(accounts).accountId,
          amount: (amount / 10n).toString(),
        });
    }
  }
  await doomed.delete(pick(accounts).accountId);

  const genesis = await rpc<{ total_supply: string }>(worker, "EXPERIMENTAL_genesis_config", {});
  // Gas refunds travel as receipts after a transaction's result: let a few blocks pass.
  const last = await rpc<BlockView>(worker, "block", { finality: "optimistic" });
  let head = last;
  while (head.header.height < last.header.height + 3) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    head = await rpc<BlockView>(worker, "block", { finality: "optimistic" });
  }

  let burnt = 0n;
  for (let height = 1; height <= head.header.height; height++) {
    const block = await blockAt(height);
    for (const chunk of block?.chunks ?? []) burnt += BigInt(chunk.balance_burnt);
  }

  const known = ["test.near", "near", ...accounts.map((a) => a.accountId), contract.accountId];
  let held = 0n;
  for (const id of known) {
    const view = await worker.provider.viewAccount(id, { block_id: head.header.height });
    held += BigInt(view.amount) + BigInt(view.locked);
  }
  expect(await doomed.exists()).toBe(false);
  expect(held + burnt).toBe(BigInt(genesis.total_supply));
  expect(BigInt(head.header.total_supply)).toBe(BigInt(genesis.total_supply) - burnt);
});
