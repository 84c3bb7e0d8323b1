/** The indexer following a localnet in the test process: start it, wait for it, ask its API. */
import { setTimeout as sleep } from "node:timers/promises";
import { expect } from "vitest";
import { type App, startApp } from "../../src/app.ts";
import { parseConfig } from "../../src/config.ts";
import type { Contracts } from "../../src/decode/contracts.ts";
import { Indexer } from "../../src/indexer.ts";
import { silentLogger } from "../../src/log.ts";
import { NeardataSource } from "../../src/source/neardata.ts";
import type { Chain } from "./chain.ts";
import { createTestDatabase, type TestDatabase } from "./db.ts";
import { dumpTables } from "./dump.ts";
import { runInBackground } from "./run.ts";

type Json = Record<string, unknown>;

/**
 * Starts the indexer and its API (free port) on `sourceUrl` from height 0; `flags` name the
 * contracts (`--registry`, `--escrow`, `--governance`) and any other `run` options.
 */
export function startLiveApp(
  chain: Chain,
  database: TestDatabase,
  flags: string[],
  options: { sourceUrl?: string; sourceRetryMs?: number } = {},
): Promise<App> {
  const { config } = parseConfig(
    [
      "run",
      ...flags,
      "--source-url",
      options.sourceUrl ?? chain.streamUrl,
      "--rpc-url",
      chain.rpcUrl,
      "--start-height",
      "0",
      "--api-port",
      "0",
    ],
    {},
  );
  return startApp({
    config,
    log: silentLogger,
    index: true,
    database,
    sourceRetryMs: options.sourceRetryMs,
  });
}

/** Waits until `app` has indexed the chain's current final height; returns that height. */
export async function caughtUp(app: App, chain: Chain, timeoutMs = 30_000): Promise<number> {
  const final = await chain.finalHeight();
  const deadline = Date.now() + timeoutMs;
  while ((app.indexer?.status.height ?? -1) < final) {
    if (Date.now() > deadline)
      throw new Error(
        `indexer at ${app.indexer?.status.height}, chain at ${final} (last error: ${app.indexer?.status.lastError})`,
      );
    await sleep(20);
  }
  return final;
}

/** GET on the app's API, expected to answer 200 with JSON. */
export async function apiGet(app: App, path: string): Promise<Json> {
  const response = await fetch(`${app.apiUrl}${path}`);
  expect(response.status, path).toBe(200);
  return (await response.json()) as Json;
}

/**
 * The chain indexed again from height 0 into a fresh database in as few batches as it can (all
 * blocks in one transaction where the stream has them ready): the set-based batch must leave the
 * same tables as following the chain a block at a time did in `db` (the cursor aside: the live
 * indexer may be further on, past blocks without events).
 */
export async function expectSameTablesInOneBatch(
  chain: Chain,
  db: TestDatabase,
  contracts: Contracts,
): Promise<void> {
  const final = await chain.finalHeight();
  const other = await createTestDatabase();
  try {
    const running = runInBackground(
      new Indexer({
        pool: other.pool,
        source: new NeardataSource({ url: chain.streamUrl }),
        contracts,
        network: "localnet",
        startHeight: 0,
        log: silentLogger,
        prefetch: 10_000,
        fetchConcurrency: 64,
        batchBlocks: 10_000,
        batchEvents: 1_000_000,
      }),
    );
    await running.reach(final, 60_000);
    await running.stop();
    const { indexer_cursor: _a, ...batched } = await dumpTables(other);
    const { indexer_cursor: _b, ...followed } = await dumpTables(db);
    expect(batched).toEqual(followed);
  } finally {
    await other.drop();
  }
}
