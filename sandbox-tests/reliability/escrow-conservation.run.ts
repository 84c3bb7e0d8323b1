/**
 * Escrow conservation at depth: RELIABILITY_OPS (default 10,000) random operations in NEAR and in
 * the token (create paid by attached NEAR, by ft_transfer_call and from a prepaid balance; deposit,
 * accept, deliver, fail, confirm, settle, dispute, resolve, cancel, reclaim, withdraw, wrong
 * callers, the machine losing and regaining eligibility, time passing), against a model the run
 * keeps of every job and of what every account is owed, computed from the operations alone.
 *
 * After every operation, per asset: the escrow's books (escrowed, credited) equal the model's open
 * jobs and balances, and the escrow holds what its books say (exactly, for the token). Every 100
 * operations: each credited balance and each provider's exposure equal the model's. Every 1,000
 * operations and at the end: every job's status and amounts equal the model's.
 *
 * The seed (RELIABILITY_SEED) picks the operations; it is printed first and on failure. Replaying
 * a seed repeats the same choices; outcomes that depend on block times (a deadline just passed)
 * may still differ. Run through `npm run reliability` (sandbox-tests/reliability/run.ts).
 */
import type { NearAccount } from "near-workspaces";
import { afterAll, beforeAll, expect, test } from "vitest";
import {
  balanceOf,
  callOk,
  callRaw,
  deliverArgs,
  escrowBalance,
  eventsOf,
  failArgs,
  ftBalance,
  type JobView,
  jobFields,
  ONE_NEAR,
  PRICE,
  SECOND_NS,
  setupWorld,
  TEST_PARAMS,
  TGAS,
  totalsOf,
  U64_MAX,
  USDC,
  type World,
  withdrawCall,
} from "../test/escrow/helpers.ts";

const OPS = Number(process.env.RELIABILITY_OPS ?? "10000");
const SEED = Number(process.env.RELIABILITY_SEED ?? String(Date.now() % 2 ** 31));
const FEE_BPS = 250n;
const WINDOW_NS = 10n * SECOND_NS;
const GAS = 200n * TGAS;
const OPEN = new Set(["requested", "accepted", "delivered", "disputed"]);
const FAILURE_CODES = ["model_unavailable", "backend_unavailable", "bad_request", "capacity"];

interface Outcome {
  failed: boolean;
  events: ReturnType<typeof eventsOf>;
}

interface ModelJob {
  id: string;
  asset: string;
  payer: string;
  provider: string;
  max: bigint;
  status: string;
  due: bigint | null;
}

let world: World;
let assets: string[];
let accounts: NearAccount[];
const jobs = new Map<string, ModelJob>();
const owed = new Map<string, bigint>();
let machineActive = true;

beforeAll(async () => {
  world = await setupWorld({
    ...TEST_PARAMS,
    dispute_window_ns: (4n * SECOND_NS).toString(),
    arbitration_window_ns: (4n * SECOND_NS).toString(),
  });
  assets = ["NEAR", world.usdc.accountId];
  accounts = [world.alice, world.bob, world.provider, world.treasury];
  await callOk(world.treasury, world.usdc, {
    method: "storage_deposit",
    args: {},
    deposit: 125n * 10n ** 19n,
  });
  console.log(`escrow conservation: seed ${SEED}, ${OPS} operations`);
}, 300_000);

afterAll(async () => {
  await world?.worker.tearDown();
});

/** mulberry32: a small deterministic PRNG, so a seed replays its choices. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const key = (account: string, asset: string) => `${account}:${asset}`;

function credit(account: string, asset: string, amount: bigint): void {
  owed.set(key(account, asset), (owed.get(key(account, asset)) ?? 0n) + amount);
}

/** Closes a model job: `paid` to the provider side (less the fee), the rest back to the payer. */
function close(job: ModelJob, paid: bigint, event: Record<string, unknown>): void {
  const fee = (paid * FEE_BPS) / 10_000n;
  expect(event.provider_payout, `job ${job.id} payout`).toBe((paid - fee).toString());
  expect(event.fee, `job ${job.id} fee`).toBe(fee.toString());
  expect(event.client_refund, `job ${job.id} refund`).toBe((job.max - paid).toString());
  credit(job.provider, job.asset, paid - fee);
  credit(world.treasury.accountId, job.asset, fee);
  credit(job.payer, job.asset, job.max - paid);
}

/**
 * Applies a successful operation's job events to the model, each checked against what the model
 * expects of it. `paidOnResolve`: the split the arbiter was asked for; `usage`: the delivery's.
 */
function applyEvents(
  events: { event: string; data: Record<string, unknown>[] }[],
  expected: { usage?: bigint; resolved?: bigint; fromBalance?: boolean },
): void {
  for (const { event, data } of events) {
    const record = data[0] ?? {};
    const id = String(record.id ?? record.job_id ?? "");
    const job = jobs.get(id);
    switch (event) {
      case "job_created": {
        const created: ModelJob = {
          id,
          asset: String(record.asset),
          payer: String(record.payer),
          provider: String(record.provider),
          max: BigInt(String(record.max_amount)),
          status: "requested",
          due: null,
        };
        expect(jobs.has(id), `job ${id} created twice`).toBe(false);
        jobs.set(id, created);
        if (expected.fromBalance) credit(created.payer, created.asset, -created.max);
        break;
      }
      case "job_accepted":
      case "job_disputed":
        expect(job, `${event} of unknown job ${id}`).toBeDefined();
        (job as ModelJob).status = event === "job_accepted" ? "accepted" : "disputed";
        break;
      case "job_delivered": {
        const m = job as ModelJob;
        const usage = expected.usage as bigint;
        // min(max amount, usage x price), spelled out: Math.min takes no bigint.
        let due = usage * PRICE;
        if (due > m.max) due = m.max;
        expect(record.amount_due, `job ${id} amount due`).toBe(due.toString());
        m.status = "delivered";
        m.due = due;
        break;
      }
      case "job_settled":
        close(job as ModelJob, (job as ModelJob).due ?? 0n, record);
        (job as ModelJob).status = "settled";
        break;
      case "dispute_resolved":
        close(job as ModelJob, expected.resolved as bigint, record);
        (job as ModelJob).status = "resolved";
        break;
      case "job_cancelled":
      case "job_reclaimed":
      case "job_failed":
        close(job as ModelJob, 0n, record);
        (job as ModelJob).status = "refunded";
        break;
      case "deposit":
        credit(String(record.account_id), String(record.asset), BigInt(String(record.deposited)));
        break;
      case "withdraw":
        credit(String(record.account_id), String(record.asset), -BigInt(String(record.withdrawn)));
        break;
      case "job_pending":
      case "job_rejected":
      case "withdraw_failed":
      case "approval_requested":
        // Pending: funds locked while the registry answers (job_created follows, or job_rejected
        // gives them back in the same transaction); a failed withdrawal restores the balance.
        break;
      default:
        throw new Error(`unexpected event ${event}`);
    }
  }
}

function escrowedOf(asset: string): bigint {
  let sum = 0n;
  for (const job of jobs.values()) {
    if (job.asset === asset && OPEN.has(job.status)) sum += job.max;
  }
  return sum;
}

function creditedOf(asset: string): bigint {
  let sum = 0n;
  for (const [k, v] of owed) if (k.endsWith(`:${asset}`)) sum += v;
  return sum;
}

/** The books against the model, and the escrow's holdings against the books. */
async function checkBooks(step: string): Promise<void> {
  const state = await world.escrow.accountView();
  for (const asset of assets) {
    const totals = await totalsOf(world, asset);
    const escrowed = escrowedOf(asset);
    const credited = creditedOf(asset);
    expect(BigInt(totals.escrowed), `${step}: escrowed ${asset}`).toBe(escrowed);
    expect(BigInt(totals.credited), `${step}: credited ${asset}`).toBe(credited);
    if (asset === "NEAR") {
      const free = BigInt(state.amount) - BigInt(state.storage_usage) * 10n ** 19n;
      expect(free >= escrowed + credited, `${step}: NEAR held ${free} < owed`).toBe(true);
    } else {
      expect(await ftBalance(world, world.escrow), `${step}: token held`).toBe(escrowed + credited);
    }
  }
}

async function checkBalances(step: string): Promise<void> {
  for (const asset of assets) {
    for (const account of accounts) {
      expect(
        await escrowBalance(world, account, asset),
        `${step}: ${account.accountId} ${asset}`,
      ).toBe(owed.get(key(account.accountId, asset)) ?? 0n);
    }
  }
  const exposure = (await world.escrow.view("provider_exposure", {
    account_id: world.provider.accountId,
  })) as { open_jobs: number };
  const open = [...jobs.values()].filter(
    (j) => j.status === "delivered" || j.status === "disputed",
  );
  expect(exposure.open_jobs, `${step}: provider exposure`).toBe(open.length);
}

async function checkJobs(step: string): Promise<void> {
  const seen = new Map<string, JobView>();
  for (let from = 0; ; from += 50) {
    const page = (await world.escrow.view("jobs", { from_index: from, limit: 50 })) as JobView[];
    for (const job of page) seen.set(job.id, job);
    if (page.length < 50) break;
  }
  expect(seen.size, `${step}: jobs on chain`).toBe(jobs.size);
  for (const job of jobs.values()) {
    const chain = seen.get(job.id);
    expect(chain?.status, `${step}: job ${job.id} status`).toBe(job.status);
    expect(chain?.max_amount, `${step}: job ${job.id} max`).toBe(job.max.toString());
    if (job.due !== null)
      expect(chain?.amount_due, `${step}: job ${job.id} due`).toBe(job.due.toString());
  }
}

/**
 * Keeps the clients able to pay: NEAR for gas (300 Tgas reserves ~50 NEAR up front) and jobs,
 * escrow storage (each job consumes 0.06 NEAR of it), tokens for token jobs.
 */
async function topUp(): Promise<void> {
  for (const account of [world.alice, world.bob, world.provider]) {
    if ((await balanceOf(account)) < 80n * ONE_NEAR) {
      await world.root.transfer(account, 200n * ONE_NEAR);
    }
  }
  for (const account of [world.alice, world.bob]) {
    const storage = (await world.escrow.view("storage_balance_of", {
      account_id: account.accountId,
    })) as { available: string };
    if (BigInt(storage.available) < 20n * ONE_NEAR) {
      await callOk(account, world.escrow, {
        method: "storage_deposit",
        args: {},
        deposit: 40n * ONE_NEAR,
      });
    }
  }
  for (const account of [world.alice, world.bob]) {
    if ((await ftBalance(world, account)) < 1_000n * USDC) {
      await callOk(world.usdc, world.usdc, {
        method: "mint",
        args: { account_id: account.accountId, amount: (10_000n * USDC).toString() },
      });
    }
  }
}

function pick<T>(rng: () => number, items: T[]): T | undefined {
  return items.length === 0 ? undefined : items[Math.floor(rng() * items.length)];
}

const byStatus = (...statuses: string[]) =>
  [...jobs.values()].filter((j) => statuses.includes(j.status));

test(
  `${OPS} random operations keep the escrow's books and every balance exact`,
  async () => {
    const rng = random(SEED);
    const { escrow, provider, arbiter, alice, bob, registry } = world;
    const counts = new Map<string, number>();
    const started = performance.now();
    let step = 0;
    let op = "";
    try {
      for (; step < OPS; step++) {
        const roll = rng();
        const client = rng() < 0.5 ? alice : bob;
        const windows = {
          accept_within_ns: WINDOW_NS.toString(),
          deliver_within_ns: WINDOW_NS.toString(),
        };
        let outcome: Outcome | null = null;
        let expected: Parameters<typeof applyEvents>[1] = {};
        const run = async (
          caller: NearAccount,
          call: Parameters<typeof callRaw>[2],
        ): Promise<Outcome> => {
          const target = call.method === "ft_transfer_call" ? world.usdc : escrow;
          const result = await callRaw(caller, target, call);
          const events = eventsOf(result).filter((e) => e.standard === "gpumarket");
          outcome = { failed: result.failed, events };
          return outcome;
        };
        if (roll < 0.1 || jobs.size < 3) {
          op = "create in NEAR";
          const amount = BigInt(1 + Math.floor(rng() * 3)) * 10n ** 22n;
          await run(client, {
            method: "create_job",
            args: jobFields(world.machine, windows),
            deposit: amount,
            gas: GAS,
          });
        } else if (roll < 0.18) {
          op = "create in token";
          const amount = BigInt(1 + Math.floor(rng() * 50)) * USDC;
          await run(client, {
            method: "ft_transfer_call",
            args: {
              receiver_id: escrow.accountId,
              amount: amount.toString(),
              msg: JSON.stringify({ action: "create_job", job: jobFields(world.machine, windows) }),
            },
            deposit: 1n,
            gas: 300n * TGAS,
          });
        } else if (roll < 0.21) {
          op = "deposit";
          await run(client, { method: "deposit", args: {}, deposit: 5n * 10n ** 22n });
        } else if (roll < 0.25) {
          op = "create from balance";
          expected = { fromBalance: true };
          await run(client, {
            method: "create_job",
            args: {
              ...jobFields(world.machine, windows),
              asset: "NEAR",
              max_amount: (2n * 10n ** 22n).toString(),
            },
            gas: GAS,
          });
        } else if (roll < 0.39) {
          const job = pick(rng, byStatus("requested"));
          if (job === undefined) continue;
          op = "accept";
          await run(provider, { method: "accept_job", args: { job_id: job.id }, gas: GAS });
        } else if (roll < 0.52) {
          const job = pick(rng, byStatus("accepted"));
          if (job === undefined) continue;
          op = "deliver";
          const maxUnits = job.max / PRICE;
          const usage =
            rng() < 0.2
              ? maxUnits * 2n > 2n * U64_MAX
                ? 2n * U64_MAX
                : maxUnits * 2n
              : BigInt(Math.floor(rng() * Number(maxUnits > 10n ** 15n ? 10n ** 15n : maxUnits)));
          expected = { usage };
          await run(provider, {
            method: "deliver_job",
            args: deliverArgs(world, job.id, usage),
            gas: GAS,
          });
        } else if (roll < 0.6) {
          const job = pick(rng, byStatus("delivered"));
          if (job === undefined) continue;
          if (rng() < 0.6) {
            op = "confirm or settle";
            const payer = world.root.getAccount(job.payer);
            const caller = rng() < 0.5 ? payer : bob;
            const method = caller.accountId === job.payer ? "confirm_job" : "settle_job";
            await run(caller, { method, args: { job_id: job.id } });
          } else {
            op = "dispute";
            await run(world.root.getAccount(job.payer), {
              method: "dispute_job",
              args: { job_id: job.id, reason: "random" },
            });
          }
        } else if (roll < 0.65) {
          const job = pick(rng, byStatus("disputed"));
          if (job === undefined) continue;
          op = "resolve";
          const paid = (job.max * BigInt(Math.floor(rng() * 101))) / 100n;
          expected = { resolved: paid };
          await run(arbiter, {
            method: "resolve_dispute",
            args: { job_id: job.id, provider_amount: paid.toString() },
          });
        } else if (roll < 0.71) {
          const job = pick(rng, byStatus("requested", "accepted"));
          if (job === undefined) continue;
          op = job.status === "requested" && rng() < 0.5 ? "cancel" : "reclaim";
          await run(world.root.getAccount(job.payer), {
            method: op === "cancel" ? "cancel_job" : "reclaim_job",
            args: { job_id: job.id },
            gas: GAS,
          });
        } else if (roll < 0.75) {
          const job = pick(rng, byStatus("requested", "accepted"));
          if (job === undefined) continue;
          op = "fail";
          const code = pick(rng, FAILURE_CODES) ?? "capacity";
          const failed = await run(provider, {
            method: "fail_job",
            args: failArgs(world, job.id, code),
          });
          expect(failed.failed, `fail_job ${job.id}`).toBe(false);
        } else if (roll < 0.82) {
          op = "withdraw";
          const account = pick(rng, accounts) ?? alice;
          const asset = pick(rng, assets) ?? "NEAR";
          if ((owed.get(key(account.accountId, asset)) ?? 0n) === 0n) continue;
          const withdrawn = await run(account, withdrawCall(asset));
          expect(withdrawn.failed, `withdraw by ${account.accountId}`).toBe(false);
        } else if (roll < 0.86) {
          op = "wrong caller";
          const job = pick(rng, [...jobs.values()]);
          if (job === undefined) continue;
          const method =
            pick(rng, ["accept_job", "cancel_job", "confirm_job", "resolve_dispute", "fail_job"]) ??
            "accept_job";
          const extra =
            method === "resolve_dispute"
              ? { provider_amount: "0" }
              : method === "fail_job"
                ? failArgs(world, job.id)
                : {};
          const refused = await run(world.gov, {
            method,
            args: { job_id: job.id, ...extra },
            gas: GAS,
          });
          expect(refused.failed, `${method} by the owner`).toBe(true);
        } else if (roll < 0.9 && (!machineActive || roll < 0.865)) {
          // Off now and then (its jobs cannot be accepted or delivered, and are reclaimed); on
          // again soon after.
          op = machineActive ? "machine off" : "machine on";
          await callOk(provider, registry, {
            method: machineActive ? "deactivate_machine" : "reactivate_machine",
            args: { machine_id: world.machine.id },
            deposit: ONE_NEAR / 100n,
          });
          machineActive = !machineActive;
          outcome = { failed: false, events: [] };
        } else {
          op = "time passes";
          await world.worker.provider.fastForward(3 + Math.floor(rng() * 5));
          const job = pick(rng, byStatus("delivered", "disputed"));
          if (job !== undefined) {
            await run(bob, { method: "settle_job", args: { job_id: job.id } });
          }
        }
        const result: Outcome | null = outcome;
        if (result !== null) {
          if (result.failed) {
            expect(result.events, `${op} failed, yet logged events`).toEqual([]);
          } else {
            applyEvents(result.events, expected);
          }
        }
        counts.set(op, (counts.get(op) ?? 0) + 1);
        await checkBooks(`step ${step} (${op})`);
        if (step % 100 === 99) await checkBalances(`step ${step} (${op})`);
        if (step % 1000 === 999) {
          await checkJobs(`step ${step}`);
          await topUp();
          const seconds = (performance.now() - started) / 1000;
          console.log(`step ${step + 1}: ${jobs.size} jobs, ${seconds.toFixed(0)} s`);
        }
      }
      await checkBalances("end");
      await checkJobs("end");
    } catch (error) {
      console.error(
        `escrow conservation failed at step ${step} (${op}); replay with --seed ${SEED} --ops ${step + 1}`,
      );
      throw error;
    }
    const seconds = (performance.now() - started) / 1000;
    const closed = [...jobs.values()].filter((j) => !OPEN.has(j.status)).length;
    console.log(
      [
        `escrow conservation: seed ${SEED}, ${OPS} operations in ${seconds.toFixed(0)} s, ${jobs.size} jobs (${closed} closed)`,
        ...[...counts.entries()].sort().map(([name, n]) => `  ${name}: ${n}`),
      ].join("\n"),
    );
    for (const name of [
      "create in NEAR",
      "create in token",
      "create from balance",
      "accept",
      "deliver",
      "confirm or settle",
      "dispute",
      "resolve",
      "fail",
      "withdraw",
      "reclaim",
      "machine off",
    ]) {
      expect(counts.get(name) ?? 0, name).toBeGreaterThan(0);
    }
  },
  24 * 3_600_000,
);
