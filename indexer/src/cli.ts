#!/usr/bin/env node
/**
 * The indexer's command line: `run`, `serve`, `migrate`, `reconcile` (see USAGE in config.ts).
 * Stops cleanly on SIGINT/SIGTERM (the current block's transaction commits or rolls back whole).
 */
import { reportListening, WORKER_ENV } from "./api/workers.ts";
import { startApp } from "./app.ts";
import { ConfigError, parseConfig, USAGE } from "./config.ts";
import { connect } from "./db/connect.ts";
import { migrateToLatest } from "./db/migrate.ts";
import { createLogger } from "./log.ts";
import { formatReport, reconcile } from "./reconcile/reconcile.ts";

async function main(): Promise<number> {
  let parsed: ReturnType<typeof parseConfig>;
  try {
    parsed = parseConfig(process.argv.slice(2), process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`error: ${error.message}\n\n${USAGE}`);
      return 2;
    }
    throw error;
  }
  const { command, config, help } = parsed;
  if (help || command === "help") {
    process.stdout.write(USAGE);
    return 0;
  }
  const log = createLogger({ json: config.logJson, level: config.logLevel });
  switch (command) {
    case "run":
    case "serve": {
      if (command === "run" && Object.values(config.contracts).every((c) => c === null)) {
        process.stderr.write(
          "error: name at least one contract (--registry, --escrow, --governance)\n",
        );
        return 2;
      }
      const worker = process.env[WORKER_ENV] === "1";
      const app = await startApp({ config, log, index: command === "run" && !worker, worker });
      const stop = () => {
        log.info("stopping");
        void app.stop();
      };
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
      if (worker) {
        // A worker of a parent that is gone (even killed) stops too.
        process.once("disconnect", stop);
        reportListening();
      }
      try {
        await app.done;
        // A worker's IPC channel to its parent would keep it alive.
        if (worker && process.connected) process.disconnect();
        return 0;
      } catch (error) {
        log.error("indexer stopped", { error });
        await app.stop();
        return 1;
      }
    }
    case "migrate": {
      const database = await connect({ ...config, log });
      try {
        const applied = await migrateToLatest(database.db);
        log.info("migrations applied", { count: applied.length, migrations: applied.join(",") });
        return 0;
      } finally {
        await database.close();
      }
    }
    case "reconcile": {
      const database = await connect({ ...config, log });
      try {
        const report = await reconcile({
          db: database.db,
          rpcUrl: config.rpcUrl,
          contracts: config.contracts,
          sample: config.all ? null : config.sample,
        });
        process.stdout.write(
          config.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report),
        );
        return report.differences.length === 0 ? 0 : 1;
      } finally {
        await database.close();
      }
    }
    default:
      process.stderr.write(`error: unknown command ${JSON.stringify(command)}\n\n${USAGE}`);
      return 2;
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
