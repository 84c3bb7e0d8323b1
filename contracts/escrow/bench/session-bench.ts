/**
 * Gas of N inference requests paid through one session (open, N vouchers off-chain, the provider's
 * close with the last voucher, the client's early settle, the provider's withdrawal) against N
 * jobs (create, accept, deliver, confirm each, then one withdrawal), for N = 1, 10, 100, 1000,
 * on localnet beside the real registry; plus the off-chain cost of a voucher (sign + verify).
 * Every job is run for real. Needs a contract build (`npm run build:contracts`).
 *
 *   npm run bench:sessions -w @gpu-market/escrow [-- --sizes 1,10,100,1000]
 */
import { performance } from "node:perf_hooks";
import type { NearAccount, TransactionResult } from "near-workspaces";
import { configureSandboxBinary } from "../../../sandbox-tests/src/sandbox-env.ts";
import {
  callOk,
  createdJob,
  deliverArgs,
  jobFields,
  MAX_GAS,
  newSessionKey,
  ONE_NEAR,
  openedSession,
  sessionFields,
  setupWorld,
  TEST_PARAMS,
  voucher,
  voucherDigest,
  type World,
  withdrawCall,
} from "../../../sandbox-tests/test/escrow/helpers.ts";

const PRICE = 1_000n;
/** Tokens per request in both paths: a chat turn of ~1k tokens. */
const USAGE = 1_000n;

function parseSizes(argv: string[]): number[] {
  const at = argv.indexOf("--sizes");
  if (at === -1) return [1, 10, 100, 1000];
  const text = argv[at + 1];
  const sizes = (text ?? "").split(",").map(Number);
  if (text === undefined || sizes.some((n) => !Number.isInteger(n) || n < 1)) {
    throw new Error(`--sizes: expected comma-separated positive integers, got ${text}`);
  }
  return sizes;
}

const tgas = (result: TransactionResult): number => Number(result.gas_burnt) / 1e12;

async function call(
  world: World,
  caller: NearAccount,
  method: string,
  args: Record<string, unknown>,
  deposit = 0n,
): Promise<TransactionResult> {
  return callOk(caller, world.escrow, { method, args, deposit, gas: MAX_GAS });
}

interface SessionCost {
  open: number;
  close: number;
  settle: number;
  withdraw: number;
  transactions: number;
  voucherMs: number;
}

/** One session of `n` requests; the vouchers are signed and checked as the client and agent do. */
async function sessionOf(world: World, n: number): Promise<SessionCost> {
  const key = newSessionKey();
  const budget = BigInt(n) * USAGE * PRICE;
  const opened = await callOk(world.alice, world.escrow, {
    method: "open_session",
    args: sessionFields(world.machine, key),
    deposit: budget,
    gas: MAX_GAS,
  });
  const session = openedSession(opened);
  const started = performance.now();
  let last = voucher(world, session.id, key, 0n, 0n);
  for (let i = 1; i <= n; i++) {
    // The client signs; the agent checks it before serving (both over sha256 of the document).
    const amount = BigInt(i) * USAGE * PRICE;
    last = voucher(world, session.id, key, amount, BigInt(i));
    const digest = voucherDigest(world.escrow.accountId, session.id, amount, BigInt(i));
    if (!key.keyPair.verify(digest, Buffer.from(last.signature, "hex"))) {
      throw new Error(`voucher ${i} does not verify`);
    }
  }
  const voucherMs = (performance.now() - started) / n;
  const close = await call(world, world.provider, "close_session", {
    session_id: session.id,
    voucher: last,
  });
  const settle = await call(world, world.alice, "settle_session", { session_id: session.id });
  const withdraw = await callOk(world.provider, world.escrow, withdrawCall("NEAR"));
  return {
    open: tgas(opened),
    close: tgas(close),
    settle: tgas(settle),
    withdraw: tgas(withdraw),
    transactions: 4,
    voucherMs,
  };
}

/** `n` jobs of USAGE tokens each, confirmed by the client, then one withdrawal. */
async function jobsOf(world: World, n: number): Promise<{ total: number; perJob: number }> {
  let total = 0;
  for (let i = 0; i < n; i++) {
    const created = await callOk(world.alice, world.escrow, {
      method: "create_job",
      args: jobFields(world.machine),
      deposit: USAGE * PRICE,
      gas: MAX_GAS,
    });
    const jobId = createdJob(created).id;
    total += tgas(created);
    total += tgas(await call(world, world.provider, "accept_job", { job_id: jobId }));
    total += tgas(
      await call(world, world.provider, "deliver_job", deliverArgs(world, jobId, USAGE)),
    );
    total += tgas(await call(world, world.alice, "confirm_job", { job_id: jobId }));
  }
  total += tgas(await callOk(world.provider, world.escrow, withdrawCall("NEAR")));
  return { total, perJob: total / n };
}

async function main(): Promise<void> {
  const sizes = parseSizes(process.argv.slice(2));
  configureSandboxBinary();
  const world = await setupWorld(TEST_PARAMS);
  try {
    // The client pays each job's and session's storage fee (0.06 and 0.05 NEAR): fund it for
    // 1111 jobs.
    const client = await world.root.createSubAccount("bench-client", {
      initialBalance: 200n * ONE_NEAR,
    });
    await call(world, client, "storage_deposit", {}, 80n * ONE_NEAR);
    world.alice = client;
    console.log(
      "| N requests | session: open + close + settle + withdraw (Tgas) | transactions | N jobs + withdraw (Tgas) | transactions | jobs / session | voucher sign+verify (ms) |",
    );
    console.log("|---:|---:|---:|---:|---:|---:|---:|");
    for (const n of sizes) {
      const s = await sessionOf(world, n);
      const sessionTotal = s.open + s.close + s.settle + s.withdraw;
      const started = performance.now();
      const jobs = await jobsOf(world, n);
      const seconds = (performance.now() - started) / 1000;
      console.log(
        `| ${n} | ${sessionTotal.toFixed(2)} (open ${s.open.toFixed(2)}, close ${s.close.toFixed(2)}, settle ${s.settle.toFixed(2)}, withdraw ${s.withdraw.toFixed(2)}) | ${s.transactions} | ${jobs.total.toFixed(2)} (${jobs.perJob.toFixed(2)} a job) | ${4 * n + 1} | ${(jobs.total / sessionTotal).toFixed(1)}x | ${s.voucherMs.toFixed(3)} |`,
      );
      console.error(`N=${n}: ${n} jobs ran in ${seconds.toFixed(1)} s`);
    }
  } finally {
    await world.worker.tearDown();
  }
}

await main();
