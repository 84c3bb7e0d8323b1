/**
 * Random operations in NEAR and in the token (create, accept, deliver, fail, confirm, settle,
 * dispute, resolve, cancel, reclaim, withdraw, wrong callers, time passing; sessions opened,
 * vouchers claimed good and bad, closed, disputed, resolved, settled), against a model of what
 * every account is owed. After each operation, per asset: the escrow's books equal open jobs +
 * credited balances, the escrow holds what the books say (exactly, for the token), and every
 * credited balance equals the model's.
 */
import type { NearAccount } from "near-workspaces";
import { afterAll, beforeAll, expect, test } from "vitest";
import {
  allSessions,
  balanceOf,
  callRaw,
  createdJob,
  createTokenJob,
  deliverArgs,
  escrowBalance,
  failArgs,
  failureText,
  ftBalance,
  ftTransferCall,
  type JobView,
  jobFields,
  MAX_GAS,
  newSessionKey,
  ONE_NEAR,
  openedSession,
  PRICE,
  pick,
  SECOND_NS,
  type SessionKey,
  type SessionView,
  seededRandom,
  sessionFields,
  setupWorld,
  TEST_PARAMS,
  totalsOf,
  U64_MAX,
  USDC,
  voucher,
  type World,
  withdrawCall,
} from "./helpers.ts";

const STEPS = 140;
const OPEN = ["requested", "accepted", "delivered", "disputed"];
const OPEN_SESSION = ["open", "closing", "disputed"];
const FEE_BPS = 250n;
/**
 * Accept and deliver windows: long enough that jobs reach delivery (and disputes) when the machine
 * is loaded, short enough that some deadlines pass and reclaims happen.
 */
const WINDOW_NS = 10n * SECOND_NS;
const FAILURE_CODES = ["model_unavailable", "backend_unavailable", "bad_request", "capacity"];

let world: World;
let assets: string[];
let accounts: NearAccount[];
/** What each "account:asset" is owed by the escrow, computed by the test alone. */
const owed = new Map<string, bigint>();
/** Each session's client key, held by the test as a client would. */
const sessionKeys = new Map<string, SessionKey>();

beforeAll(async () => {
  world = await setupWorld({
    ...TEST_PARAMS,
    dispute_window_ns: (4n * SECOND_NS).toString(),
    arbitration_window_ns: (4n * SECOND_NS).toString(),
    min_session_ns: SECOND_NS.toString(),
  });
  assets = ["NEAR", world.usdc.accountId];
  accounts = [world.alice, world.bob, world.provider, world.treasury];
  await world.usdc.call(
    world.usdc,
    "storage_deposit",
    { account_id: world.treasury.accountId },
    {
      attachedDeposit: 125n * 10n ** 19n,
    },
  );
});

afterAll(async () => {
  await world?.worker.tearDown();
});

function credit(account: string, asset: string, amount: bigint): void {
  const key = `${account}:${asset}`;
  owed.set(key, (owed.get(key) ?? 0n) + amount);
}

function close(job: JobView, paid: bigint): void {
  const fee = (paid * FEE_BPS) / 10_000n;
  credit(job.provider, job.asset, paid - fee);
  credit(world.treasury.accountId, job.asset, fee);
  credit(job.payer, job.asset, BigInt(job.max_amount) - paid);
}

function closeSession(session: SessionView, paid: bigint): void {
  const fee = (paid * FEE_BPS) / 10_000n;
  credit(session.provider, session.asset, paid - fee);
  credit(world.treasury.accountId, session.asset, fee);
  credit(session.payer, session.asset, BigInt(session.budget) - paid);
}

async function allJobs(): Promise<JobView[]> {
  const out: JobView[] = [];
  for (let from = 0; ; from += 50) {
    const page = (await world.escrow.view("jobs", { from_index: from, limit: 50 })) as JobView[];
    out.push(...page);
    if (page.length < 50) return out;
  }
}

async function checkInvariants(step: string): Promise<void> {
  const jobs = await allJobs();
  const sessions = await allSessions(world);
  const state = await world.escrow.accountView();
  for (const asset of assets) {
    const totals = await totalsOf(world, asset);
    const escrowed =
      jobs
        .filter((j) => j.asset === asset && OPEN.includes(j.status))
        .reduce((sum, j) => sum + BigInt(j.max_amount), 0n) +
      sessions
        .filter((x) => x.asset === asset && OPEN_SESSION.includes(x.status))
        .reduce((sum, x) => sum + BigInt(x.budget), 0n);
    expect(BigInt(totals.escrowed), `${step}: escrowed ${asset}`).toBe(escrowed);
    let credited = 0n;
    for (const account of accounts) {
      const balance = await escrowBalance(world, account, asset);
      expect(balance, `${step}: ${account.accountId} ${asset}`).toBe(
        owed.get(`${account.accountId}:${asset}`) ?? 0n,
      );
      credited += balance;
    }
    expect(BigInt(totals.credited), `${step}: credited ${asset}`).toBe(credited);
    if (asset === "NEAR") {
      const free = BigInt(state.amount) - BigInt(state.storage_usage) * 10n ** 19n;
      expect(free >= escrowed + credited, `${step}: NEAR held ${free} < owed`).toBe(true);
    } else {
      expect(await ftBalance(world, world.escrow), `${step}: token held`).toBe(escrowed + credited);
    }
  }
}

/**
 * One random session operation; returns its name, or null when there was nothing to do it to.
 * Calls that may be refused (a client closing before expiry, a voucher claimed after the window,
 * a bad voucher) must be refused for that reason and change nothing.
 */
async function sessionStep(rng: () => number): Promise<string | null> {
  const { escrow, provider, arbiter, alice, bob } = world;
  const sessions = await allSessions(world);
  const by = (...statuses: string[]) => sessions.filter((x) => statuses.includes(x.status));
  const roll = rng();
  if (roll < 0.3 || sessions.length < 2) {
    const client = rng() < 0.5 ? alice : bob;
    const key = newSessionKey();
    const fields = sessionFields(world.machine, key, {
      expires_within_ns: (BigInt(2 + Math.floor(rng() * 10)) * SECOND_NS).toString(),
    });
    const result =
      rng() < 0.5
        ? await callRaw(client, escrow, {
            method: "open_session",
            args: fields,
            deposit: BigInt(1 + Math.floor(rng() * 3)) * ONE_NEAR,
            gas: MAX_GAS,
          })
        : await ftTransferCall(world, client, BigInt(1 + Math.floor(rng() * 50)) * USDC, {
            action: "open_session",
            session: fields,
          });
    sessionKeys.set(openedSession(result).id, key);
    return "open session";
  }
  if (roll < 0.55) {
    const session = pick(rng, by("open", "closing"));
    if (session === undefined) return null;
    const key = sessionKeys.get(session.id) ?? newSessionKey();
    const budget = BigInt(session.budget);
    const bad = rng() < 0.25;
    const nonce = bad
      ? BigInt(session.nonce)
      : BigInt(session.nonce) + 1n + BigInt(Math.floor(rng() * 3));
    const amount =
      bad && rng() < 0.5 ? budget + 1n : (budget * BigInt(Math.floor(rng() * 101))) / 100n;
    const result = await callRaw(provider, escrow, {
      method: "claim_session",
      args: { session_id: session.id, ...voucher(world, session.id, key, amount, nonce) },
    });
    if (bad) {
      expect(failureText(result)).toMatch(/is not above|is over session|the dispute window closed/);
    } else if (result.failed) {
      expect(failureText(result)).toMatch(/the dispute window closed/);
    }
    return bad ? "bad voucher" : "claim";
  }
  if (roll < 0.7) {
    const session = pick(rng, by("open"));
    if (session === undefined) return null;
    const byProvider = rng() < 0.6;
    const result = await callRaw(
      byProvider ? provider : world.root.getAccount(session.client),
      escrow,
      {
        method: "close_session",
        args: { session_id: session.id },
      },
    );
    if (result.failed) {
      expect(byProvider).toBe(false);
      expect(failureText(result)).toMatch(/before that only the provider closes it/);
    }
    return "close session";
  }
  if (roll < 0.8) {
    const session = pick(rng, by("closing"));
    if (session === undefined) return null;
    const result = await callRaw(world.root.getAccount(session.payer), escrow, {
      method: "dispute_session",
      args: { session_id: session.id, reason: "random" },
    });
    if (result.failed) expect(failureText(result)).toMatch(/the dispute window closed/);
    return "dispute session";
  }
  if (roll < 0.88) {
    const session = pick(rng, by("disputed"));
    if (session === undefined) return null;
    const paid = (BigInt(session.budget) * BigInt(Math.floor(rng() * 101))) / 100n;
    const result = await callRaw(arbiter, escrow, {
      method: "resolve_session",
      args: { session_id: session.id, provider_amount: paid.toString() },
    });
    if (!result.failed) {
      closeSession(session, paid);
      return "resolve session";
    }
    expect(failureText(result)).toMatch(/arbitration window closed/);
    return "resolve session late";
  }
  const session = pick(rng, by("closing", "disputed"));
  if (session === undefined) return null;
  // The side that did not close may settle early; a stranger only after the window.
  const caller =
    rng() < 0.5
      ? bob
      : session.closed_by === "provider"
        ? world.root.getAccount(session.payer)
        : provider;
  const result = await callRaw(caller, escrow, {
    method: "settle_session",
    args: { session_id: session.id },
  });
  if (!result.failed) {
    closeSession(session, BigInt(session.claimed));
    return "settle session";
  }
  expect(failureText(result)).toMatch(/the dispute window is open until|the arbiter has until/);
  return "settle session early";
}

test(`${STEPS} random operations keep the books and every balance exact`, async () => {
  const rng = seededRandom(20_261_202);
  const { escrow, provider, arbiter, alice, bob } = world;
  const counts = new Map<string, number>();
  for (let step = 0; step < STEPS; step++) {
    if (rng() < 0.3) {
      const op = await sessionStep(rng);
      if (op === null) continue;
      counts.set(op, (counts.get(op) ?? 0) + 1);
      await checkInvariants(`step ${step} (${op})`);
      continue;
    }
    const jobs = await allJobs();
    const by = (status: string) => jobs.filter((j) => j.status === status);
    const roll = rng();
    let op = "";
    if (roll < 0.2 || jobs.length < 3) {
      const client = rng() < 0.5 ? alice : bob;
      if (rng() < 0.5) {
        op = "create in NEAR";
        const amount = BigInt(1 + Math.floor(rng() * 3)) * ONE_NEAR;
        const result = await callRaw(client, escrow, {
          method: "create_job",
          args: jobFields(world.machine, {
            accept_within_ns: WINDOW_NS.toString(),
            deliver_within_ns: WINDOW_NS.toString(),
          }),
          deposit: amount,
          gas: MAX_GAS,
        });
        createdJob(result);
      } else {
        op = "create in token";
        const amount = BigInt(1 + Math.floor(rng() * 50)) * USDC;
        createdJob(
          await createTokenJob(world, client, amount, {
            accept_within_ns: WINDOW_NS.toString(),
            deliver_within_ns: WINDOW_NS.toString(),
          }),
        );
      }
    } else if (roll < 0.35) {
      const job = pick(rng, by("requested"));
      if (job === undefined) continue;
      op = "accept";
      // Fails (changing nothing) when the accept deadline has passed.
      await callRaw(provider, escrow, { method: "accept_job", args: { job_id: job.id } });
    } else if (roll < 0.5) {
      const job = pick(rng, by("accepted"));
      if (job === undefined) continue;
      op = "deliver";
      // Sometimes more usage than the maximum pays for (token jobs; a NEAR job's maximum is more
      // than two u64 token counts can cost): the amount due is capped.
      const maxUnits = BigInt(job.max_amount) / PRICE;
      const usage =
        rng() < 0.2
          ? maxUnits * 2n > 2n * U64_MAX
            ? 2n * U64_MAX
            : maxUnits * 2n
          : BigInt(Math.floor(rng() * Number(maxUnits > 10n ** 15n ? 10n ** 15n : maxUnits)));
      await callRaw(provider, escrow, {
        method: "deliver_job",
        args: deliverArgs(world, job.id, usage),
      });
    } else if (roll < 0.6) {
      const job = pick(rng, by("delivered"));
      if (job === undefined) continue;
      if (rng() < 0.5) {
        op = "confirm or settle";
        const caller = rng() < 0.5 ? world.root.getAccount(job.payer) : bob;
        const method = caller.accountId === job.payer ? "confirm_job" : "settle_job";
        const result = await callRaw(caller, escrow, { method, args: { job_id: job.id } });
        if (!result.failed) close(job, BigInt(job.amount_due ?? "0"));
      } else {
        op = "dispute";
        await callRaw(world.root.getAccount(job.payer), escrow, {
          method: "dispute_job",
          args: { job_id: job.id, reason: "random" },
        });
      }
    } else if (roll < 0.68) {
      const job = pick(rng, by("disputed"));
      if (job === undefined) continue;
      op = "resolve";
      const paid = (BigInt(job.max_amount) * BigInt(Math.floor(rng() * 101))) / 100n;
      const result = await callRaw(arbiter, escrow, {
        method: "resolve_dispute",
        args: { job_id: job.id, provider_amount: paid.toString() },
      });
      if (result.failed) {
        // On a loaded machine the 4 s arbitration window can close first: then the delivery
        // stands and anyone settles it at the amount the receipt made due.
        expect(result.receiptFailureMessages.join("\n")).toMatch(/arbitration window closed/);
        const settled = await callRaw(bob, escrow, {
          method: "settle_job",
          args: { job_id: job.id },
        });
        expect(settled.failed, settled.receiptFailureMessages.join("\n")).toBe(false);
        close(job, BigInt(job.amount_due ?? "0"));
      } else {
        close(job, paid);
      }
    } else if (roll < 0.74) {
      const job = pick(rng, [...by("requested"), ...by("accepted")]);
      if (job === undefined) continue;
      op = job.status === "requested" && rng() < 0.5 ? "cancel" : "reclaim";
      const result = await callRaw(world.root.getAccount(job.payer), escrow, {
        method: op === "cancel" ? "cancel_job" : "reclaim_job",
        args: { job_id: job.id },
      });
      if (!result.failed) close(job, 0n);
    } else if (roll < 0.8) {
      const job = pick(rng, [...by("requested"), ...by("accepted")]);
      if (job === undefined) continue;
      op = "fail";
      const code = pick(rng, FAILURE_CODES) ?? "capacity";
      const result = await callRaw(provider, escrow, {
        method: "fail_job",
        args: failArgs(world, job.id, code),
      });
      expect(result.failed, result.receiptFailureMessages.join("\n")).toBe(false);
      close(job, 0n);
    } else if (roll < 0.88) {
      op = "withdraw";
      const account = pick(rng, accounts) ?? alice;
      const asset = pick(rng, assets) ?? "NEAR";
      const amount = await escrowBalance(world, account, asset);
      if (amount === 0n) continue;
      const beforeNear = await balanceOf(account);
      const beforeFt = await ftBalance(world, account);
      const result = await callRaw(account, escrow, withdrawCall(asset));
      expect(result.failed).toBe(false);
      credit(account.accountId, asset, -amount);
      if (asset === "NEAR") {
        const gained = (await balanceOf(account)) - beforeNear;
        expect(gained <= amount && gained > amount - ONE_NEAR / 100n).toBe(true);
      } else {
        expect((await ftBalance(world, account)) - beforeFt).toBe(amount);
      }
    } else if (roll < 0.93) {
      op = "wrong caller";
      const job = pick(rng, jobs);
      if (job === undefined) continue;
      const method =
        pick(rng, ["accept_job", "cancel_job", "confirm_job", "resolve_dispute", "fail_job"]) ??
        "accept_job";
      const caller = world.gov;
      const extra =
        method === "resolve_dispute"
          ? { provider_amount: "0" }
          : method === "fail_job"
            ? failArgs(world, job.id)
            : {};
      const result = await callRaw(caller, escrow, {
        method,
        args: { job_id: job.id, ...extra },
      });
      expect(result.failed, `${method} by ${caller.accountId}`).toBe(true);
    } else {
      op = "time passes";
      await world.worker.provider.fastForward(3 + Math.floor(rng() * 5));
      const job = pick(rng, [...by("delivered"), ...by("disputed")]);
      if (job !== undefined) {
        const result = await callRaw(bob, escrow, {
          method: "settle_job",
          args: { job_id: job.id },
        });
        if (!result.failed) close(job, BigInt(job.amount_due ?? "0"));
      }
    }
    counts.set(op, (counts.get(op) ?? 0) + 1);
    await checkInvariants(`step ${step} (${op})`);
  }
  // The run exercised the paths it is meant to.
  for (const op of [
    "create in NEAR",
    "create in token",
    "accept",
    "deliver",
    "confirm or settle",
    "dispute",
    "fail",
    "withdraw",
    "open session",
    "claim",
    "bad voucher",
    "close session",
    "settle session",
  ]) {
    expect(counts.get(op) ?? 0, `${op} (ran: ${JSON.stringify([...counts])})`).toBeGreaterThan(0);
  }
}, 600_000);
