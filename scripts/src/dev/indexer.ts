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
  // The indexer's own lines, less their timestamp, under the stack's "indexer" name.
  const indexerLog = createLogger({
    write: (line) => {
      const text = line.replace(/^\S+ /, "");
      if (text.startsWith("WARN")) log.warn("indexer", text.slice(5).trim());
      else if (text.startsWith("ERROR")) log.error("indexer", text.slice(5).trim());
      else log.info("indexer", text.replace(/^INFO\s+/, ""));
    },
  });
  const app = await startApp({ config, log: indexerLog, index: true });
  log.info(
    "indexer",
    `ready in ${since(started)} · ${config.databaseUrl === undefined ? `embedded PostgreSQL on port ${options.pgPort}` : "DATABASE_URL"}`,
  );
  return app;
}
