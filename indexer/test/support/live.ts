/** The indexer following a localnet in the test process: start it, wait for it, ask its API. */
import { setTimeout as sleep } from "node:timers/promises";
import { expect } from "vitest";
import { type App, startApp } from "../../src/app.ts";
import { parseConfig } from "../../src/config.ts";
import { silentLogger } from "../../src/log.ts";
import type { Chain } from "./chain.ts";
import type { TestDatabase } from "./db.ts";

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
