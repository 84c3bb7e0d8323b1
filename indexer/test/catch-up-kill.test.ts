/**
 * Crash safety of the set-based catch-up: the indexer CLI catching up on a generated chain (served
 * by its own process at neardata's paths, with the registry's views for reconcile) is SIGKILLed at
 * random moments, between and inside its batches' writes (COPY and the set-based statements), and
 * started again each time. At the end the tables equal those of an uninterrupted run, the events
 * table holds every event of the chain once, and reconcile finds no difference with the chain.
 * Kill rounds: INDEXER_KILL_ROUNDS (default 4).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, expect, test } from "vitest";
import { Indexer } from "../src/indexer.ts";
import { silentLogger } from "../src/log.ts";
import { reconcile } from "../src/reconcile/reconcile.ts";
import { NeardataSource } from "../src/source/neardata.ts";
import { createTestDatabase, type TestDatabase } from "./support/db.ts";
import { dumpTables } from "./support/dump.ts";
import { runInBackground } from "./support/run.ts";

const CLI = fileURLToPath(new URL("../src/cli.ts", import.meta.url));
const CHAIN_SERVER = fileURLToPath(new URL("../bench/neardata-server.ts", import.meta.url));
const REGISTRY = "registry.kill.near";
const CONTRACTS = { registry: REGISTRY, escrow: null, governance: null };
const ROUNDS = Number(process.env.INDEXER_KILL_ROUNDS ?? 4);

let chainProcess: ChildProcess;
let chain: { url: string; final: number; events: number };
let reference: TestDatabase;
let killed: TestDatabase;

beforeAll(async () => {
  const server = spawn(
    process.execPath,
    [CHAIN_SERVER, "--machines", "2000", "--providers", "50", "--registry", REGISTRY],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  chainProcess = server;
  const [line] = (await once(createInterface({ input: server.stdout }), "line")) as [string];
  chain = JSON.parse(line);
  reference = await createTestDatabase();
  killed = await createTestDatabase();
  const running = runInBackground(
    new Indexer({
      pool: reference.pool,
      source: new NeardataSource({ url: chain.url }),
      contracts: CONTRACTS,
      network: "synthetic",
      startHeight: 1,
      log: silentLogger,
    }),
  );
  await running.reach(chain.final, 120_000);
  await running.stop();
});

afterAll(async () => {
  chainProcess?.kill("SIGTERM");
  await reference?.drop();
  await killed?.drop();
});

async function cursorHeight(): Promise<number> {
  const row = await killed.db.selectFrom("indexer_cursor").select("height").executeTakeFirst();
  return row === undefined ? 0 : Number(row.height);
}

test(`killed ${ROUNDS} times while catching up, it ends with every event once and the chain's tables`, async () => {
  const start = (): ChildProcess =>
    spawn(
      process.execPath,
      [
        CLI,
        "run",
        "--network",
        "synthetic",
        "--source-url",
        chain.url,
        "--rpc-url",
        chain.url,
        "--registry",
        REGISTRY,
        "--start-height",
        "1",
        "--api-port",
        "0",
        // Small batches: many commits, so kills land inside writes as well as between them.
        "--batch-blocks",
        "8",
        "--log-level",
        "error",
      ],
      { env: { ...process.env, DATABASE_URL: killed.url }, stdio: "ignore" },
    );
  const heights: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const before = await cursorHeight();
    const child = start();
    const exited = once(child, "exit");
    // Once it has committed something past the last kill, at a random moment after that.
    const deadline = Date.now() + 60_000;
    while ((await cursorHeight()) <= before && Date.now() < deadline) await sleep(5);
    await sleep(Math.random() * 150);
    child.kill("SIGKILL");
    await exited;
    heights.push(await cursorHeight());
  }
  // Most kills hit a catch-up in progress (not one already done).
  expect(heights.filter((h) => h < chain.final).length).toBeGreaterThanOrEqual(Math.min(2, ROUNDS));
  const final = start();
  const exited = once(final, "exit");
  try {
    const deadline = Date.now() + 120_000;
    while ((await cursorHeight()) < chain.final) {
      if (Date.now() > deadline)
        throw new Error(`the restarted indexer did not reach ${chain.final}`);
      await sleep(50);
    }
  } finally {
    final.kill("SIGTERM");
    await exited;
  }
  const count = await killed.db
    .selectFrom("events")
    .select(killed.db.fn.countAll<string>().as("n"))
    .executeTakeFirstOrThrow();
  expect(Number(count.n)).toBe(chain.events);
  expect(await dumpTables(killed)).toEqual(await dumpTables(reference));
  const report = await reconcile({
    db: killed.db,
    rpcUrl: chain.url,
    contracts: CONTRACTS,
    sample: null,
  });
  expect(report.differences).toEqual([]);
  expect(report.checked.machines).toBe(2000);
});
