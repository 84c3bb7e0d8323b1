/**
 * Gas of the governance token and proposal methods, including executions that upgrade the
 * ~550 KB registry and governance itself, measured on localnet (or a real near-sandbox given
 * through NEAR_SANDBOX_BINARY_PATH). Needs a contract build (`npm run build:contracts`). Prints
 * Markdown tables; BENCHMARKS.md records a run.
 */
import { readFileSync } from "node:fs";
import { type NearAccount, type TransactionResult, Worker } from "near-workspaces";
import { contractWasm } from "../../../sandbox-tests/src/contracts.ts";
import { rpc } from "../../../sandbox-tests/src/rpc.ts";
import { configureSandboxBinary } from "../../../sandbox-tests/src/sandbox-env.ts";

const ONE_NEAR = 10n ** 24n;
const TGAS = 10n ** 12n;
const MAX_GAS = 300n * TGAS;
const TOKEN = 10n ** 24n;
const CONFIG = {
  voting_delay_blocks: 30,
  voting_period_blocks: 300,
  timelock_blocks: 1,
  grace_period_blocks: 300,
  quorum_bps: 2000,
  proposal_threshold: (10n * TOKEN).toString(),
};

interface Row {
  method: string;
  case: string;
  tgas: string;
  storageBytes: bigint;
}

const rows: Row[] = [];
const breakdowns: { label: string; receipts: string[] }[] = [];

interface RawOutcome {
  outcome: { executor_id: string; gas_burnt: number };
}

async function usage(account: NearAccount): Promise<bigint> {
  return BigInt((await account.accountView()).storage_usage);
}

async function run(
  label: string,
  what: string,
  caller: NearAccount,
  gov: NearAccount,
  method: string,
  args: Record<string, unknown> | Uint8Array,
  deposit = 0n,
): Promise<TransactionResult> {
  const before = await usage(gov);
  const result = await caller.callRaw(gov, method, args, {
    gas: MAX_GAS,
    attachedDeposit: deposit,
  });
  if (result.failed) {
    throw new Error(`${method} failed: ${result.receiptFailureMessages.join("\n")}`);
  }
  rows.push({
    method: label,
    case: what,
    tgas: (Number(result.gas_burnt) / 1e12).toFixed(2),
    storageBytes: (await usage(gov)) - before,
  });
  return result;
}

function breakdown(label: string, result: TransactionResult): void {
  const outcomes = (result.result as unknown as { receipts_outcome: RawOutcome[] })
    .receipts_outcome;
  breakdowns.push({
    label,
    receipts: outcomes
      .filter((o) => o.outcome.gas_burnt > 300_000_000_000)
      .map((o) => `${o.outcome.executor_id} ${(o.outcome.gas_burnt / 1e12).toFixed(2)}`),
  });
}

async function headHeight(worker: Worker): Promise<number> {
  const block = await rpc<{ header: { height: number } }>(worker, "block", {
    finality: "optimistic",
  });
  return block.header.height;
}

async function advanceTo(worker: Worker, target: number): Promise<void> {
  const now = await headHeight(worker);
  if (now < target) {
    await worker.provider.fastForward(target - now);
  }
}

async function main(): Promise<void> {
  configureSandboxBinary();
  const worker = await Worker.init();
  try {
    const root = worker.rootAccount;
    const make = (name: string, balance = 300n) =>
      root.createSubAccount(name, { initialBalance: balance * ONE_NEAR });
    // One at a time: the root account's transactions share one nonce sequence.
    const alice = await make("alice");
    const bob = await make("bob");
    const carol = await make("carol");
    const gov = await make("gov");
    const registry = await make("registry", 30n);
    const registryWasm = readFileSync(contractWasm("registry"));
    const governanceWasm = readFileSync(contractWasm("governance"));
    await registry.deploy(registryWasm);
    await registry.call(
      registry,
      "init",
      { owner: gov.accountId, treasury: gov.accountId },
      { gas: 100n * TGAS },
    );
    await gov.deploy(governanceWasm);
    await run("init", "3 holders + treasury", gov, gov, "init", {
      config: { ...CONFIG, guardian: carol.accountId, governed: [registry.accountId] },
      holders: [
        { account_id: alice.accountId, amount: (500n * TOKEN).toString() },
        { account_id: bob.accountId, amount: (300n * TOKEN).toString() },
        { account_id: gov.accountId, amount: (200n * TOKEN).toString() },
      ],
    });

    // Token
    await run("storage_deposit", "register", carol, gov, "storage_deposit", {}, ONE_NEAR / 10n);
    const transfer = (from: NearAccount, to: NearAccount, what: string) =>
      run(
        "ft_transfer",
        what,
        from,
        gov,
        "ft_transfer",
        { receiver_id: to.accountId, amount: TOKEN.toString() },
        1n,
      );
    await transfer(alice, carol, "neither side delegated");
    await run(
      "delegate",
      "to self, first time",
      alice,
      gov,
      "delegate",
      { delegatee: alice.accountId },
      1n,
    );
    await run(
      "delegate",
      "to another account",
      bob,
      gov,
      "delegate",
      { delegatee: alice.accountId },
      1n,
    );
    await run("delegate", "to self", carol, gov, "delegate", { delegatee: carol.accountId }, 1n);
    await transfer(alice, carol, "both sides delegated (2 checkpoints)");
    await transfer(alice, carol, "both sides delegated, again");
    await run(
      "storage_withdraw",
      "0.05 NEAR of the available",
      carol,
      gov,
      "storage_withdraw",
      { amount: (ONE_NEAR / 20n).toString() },
      1n,
    );

    // Blobs, stored by the proposer (only a blob's payer may propose it)
    const registryBlob = await run(
      "store_blob",
      `registry, ${registryWasm.length} bytes`,
      alice,
      gov,
      "store_blob",
      registryWasm,
      7n * ONE_NEAR,
    );
    const registrySha = registryBlob.parseResult<{ code_sha256: string }>().code_sha256;
    const selfBlob = await run(
      "store_blob",
      `governance, ${governanceWasm.length} bytes`,
      alice,
      gov,
      "store_blob",
      governanceWasm,
      7n * ONE_NEAR,
    );
    const selfSha = selfBlob.parseResult<{ code_sha256: string }>().code_sha256;

    // Proposals: four kinds, voted by two delegates, then queued and executed.
    const proposals: [string, unknown[]][] = [
      [
        "function_call: registry set_params",
        [
          {
            kind: "function_call",
            target: registry.accountId,
            method: "set_params",
            args: { params: { max_evidence_bytes: 10000 } },
            gas_tgas: 30,
          },
        ],
      ],
      [
        "transfer: 1 NEAR",
        [{ kind: "transfer", receiver: bob.accountId, amount: ONE_NEAR.toString() }],
      ],
      [
        "transfer: own token",
        [
          {
            kind: "transfer",
            receiver: carol.accountId,
            amount: TOKEN.toString(),
            token: gov.accountId,
          },
        ],
      ],
      ["config change", [{ kind: "config", config: { quorum_bps: 2500 } }]],
      [
        `upgrade registry (${registryWasm.length} bytes)`,
        [{ kind: "upgrade", target: registry.accountId, code_sha256: registrySha }],
      ],
      [
        `upgrade_self (${governanceWasm.length} bytes)`,
        [{ kind: "upgrade_self", code_sha256: selfSha }],
      ],
    ];
    const ids: number[] = [];
    for (const [label, actions] of proposals) {
      const result = await run(
        "propose",
        label,
        alice,
        gov,
        "propose",
        { description: label, actions },
        ONE_NEAR / 10n,
      );
      ids.push(result.parseResult<{ id: number }>().id);
    }
    const cancelId = (
      await run(
        "propose",
        "to be canceled",
        alice,
        gov,
        "propose",
        { description: "x", actions: proposals[0]?.[1] },
        ONE_NEAR / 10n,
      )
    ).parseResult<{ id: number }>().id;
    await run("cancel", "by the proposer, pending", alice, gov, "cancel", {
      proposal_id: cancelId,
    });
    const last = ids[ids.length - 1] ?? 0;
    const lastView = (await gov.view("proposal", { proposal_id: last })) as {
      snapshot_height: number;
      vote_end_height: number;
    };
    await advanceTo(worker, lastView.snapshot_height + 1);
    for (const [i, id] of ids.entries()) {
      await run(
        "vote",
        i === 0 ? "for, first vote" : "for",
        alice,
        gov,
        "vote",
        { proposal_id: id, support: "for" },
        ONE_NEAR / 100n,
      );
    }
    await run(
      "vote",
      "against (second voter)",
      carol,
      gov,
      "vote",
      { proposal_id: ids[0], support: "against", reason: "too small a change" },
      ONE_NEAR / 100n,
    );
    await advanceTo(worker, lastView.vote_end_height + 1);
    for (const id of ids) {
      await run("queue", `proposal ${id}`, bob, gov, "queue", { proposal_id: id });
    }
    await worker.provider.fastForward(2);
    for (const [i, id] of ids.entries()) {
      const label = proposals[i]?.[0] ?? "";
      const result = await run("execute", label, bob, gov, "execute", { proposal_id: id });
      breakdown(`execute: ${label}`, result);
    }
    const removed = await run(
      "remove_blob",
      "registry blob, after its proposal executed",
      alice,
      gov,
      "remove_blob",
      { code_sha256: registrySha },
    );
    breakdown("remove_blob", removed);
  } finally {
    await worker.tearDown();
  }

  process.stdout.write(
    "| method | case | gas burnt, whole transaction (Tgas) | governance storage Δ (bytes) |\n|---|---|---:|---:|\n",
  );
  for (const row of rows) {
    process.stdout.write(`| ${row.method} | ${row.case} | ${row.tgas} | ${row.storageBytes} |\n`);
  }
  process.stdout.write(
    "\nPer-receipt gas of executions (account, Tgas; receipts above 0.3 Tgas):\n\n",
  );
  for (const { label, receipts } of breakdowns) {
    process.stdout.write(`- ${label}: ${receipts.join(", ")}\n`);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exitCode = 1;
});
