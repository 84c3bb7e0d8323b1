/**
 * The indexer (embedded PostgreSQL unless DATABASE_URL is set, indexing loop, query API with the
 * dashboard) in this process, indexing the market's contracts from the deployment height.
 */
import { type App, startApp } from "../../../indexer/src/app.ts";
import { parseConfig } from "../../../indexer/src/config.ts";
import { createLogger } from "../../../indexer/src/log.ts";
import type { Deployment } from "../deployment.ts";
import { type DevLog, since } from "./log.ts";

export interface IndexerOptions {
  rpcUrl: string;
  deployment: Deployment;
  startHeight: number;
  dataDir: string;
  pgPort: number;
  host: string;
  apiPort: number;
  env: NodeJS.ProcessEnv;
}

/**
 * The indexer's own lines, less their timestamp, under the stack's "indexer" name. Progress
 * ("indexed height=...") and "event recorded but not applied" lines come once per block, so they
 * are summed up every 30 s instead (/health has the details).
 */
function throttled(log: DevLog): (line: string) => void {
  const every = 30_000;
  let lastProgress = 0;
  let notApplied = 0;
  let lastNotApplied = 0;
  return (line) => {
    const text = line.replace(/^\S+ /, "");
    const message = text.replace(/^(INFO|WARN|ERROR|DEBUG)\s+/, "");
    const now = Date.now();
    if (message.startsWith("indexed ")) {
      if (now - lastProgress < every) return;
      lastProgress = now;
    } else if (message.startsWith("event recorded but not applied")) {
      notApplied++;
      if (now - lastNotApplied < every) return;
      lastNotApplied = now;
      log.warn(
        "indexer",
        `${notApplied} event(s) recorded but not applied so far (latest: ${message.slice(31)})`,
      );
      return;
    }
    if (text.startsWith("WARN")) log.warn("indexer", message);
    else if (text.startsWith("ERROR")) log.error("indexer", message);
    else log.info("indexer", message);
  };
}

export async function startIndexer(options: IndexerOptions, log: DevLog): Promise<App> {
  const started = performance.now();
  const { config } = parseConfig(
    [
      "run",
      "--source-url",
      options.rpcUrl,
      "--rpc-url",
      options.rpcUrl,
      "--registry",
      options.deployment.registry.account_id,
      "--escrow",
      options.deployment.escrow.account_id,
      "--governance",
      options.deployment.governance.account_id,
      "--start-height",
      String(options.startHeight),
      "--data-dir",
      options.dataDir,
      "--pg-port",
      String(options.pgPort),
      "--api-host",
      options.host,
      "--api-port",
      String(options.apiPort),
    ],
    options.env,
  );
  const indexerLog = createLogger({ write: throttled(log) });
  const app = await startApp({ config, log: indexerLog, index: true });
  log.info(
    "indexer",
    `ready in ${since(started)} · ${config.databaseUrl === undefined ? `embedded PostgreSQL on port ${options.pgPort}` : "DATABASE_URL"}`,
  );
  return app;
}
