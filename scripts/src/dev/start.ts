#!/usr/bin/env node
/**
 * `npm start`: the whole local market in one command (see stack.ts), its URLs printed once it is
 * up. Ctrl-C stops every service cleanly; the next start resumes the same chain and database.
 */
import { DevConfigError, devConfig, ENV_HELP } from "./config.ts";
import { DEMO_MODEL_NAME } from "./demo.ts";
import { createDevLog, since } from "./log.ts";
import { type Stack, startStack } from "./stack.ts";

function urls(stack: Stack): string {
  return [
    "",
    `  dashboard   ${stack.dashboardUrl}`,
    `  query API   ${stack.apiUrl}/v1/machines  (also /v1/providers, /v1/events, /v1/stats, /health)`,
    `  NEAR RPC    ${stack.rpcUrl}  (block stream ${stack.rpcUrl}/v0/last_block/final)`,
    `  contracts   registry ${stack.deployment.registry.account_id} · escrow ${stack.deployment.escrow.account_id} · governance ${stack.deployment.governance.account_id}`,
    "",
    "  the CLI against this market (another terminal):",
    `    export NEAR_CREDENTIALS_DIR=${stack.credentialsDir} GPU_MARKET_DEPLOYMENT=${stack.deploymentPath}`,
    `    npm run gpu-market -- job run --account acme-ai.test.near --model ${DEMO_MODEL_NAME} --prompt "Hello" --max-amount 0.1 --network localnet`,
    "",
    "  Ctrl-C stops everything; `npm start` again resumes the same chain and database.",
    "",
  ].join("\n");
}

async function main(): Promise<number> {
  if (process.argv.includes("--help")) {
    process.stdout.write(
      `npm start: localnet, contracts, indexer, verifier, dashboard\n\n${ENV_HELP}\n`,
    );
    return 0;
  }
  const log = createDevLog();
  let config: ReturnType<typeof devConfig>;
  try {
    config = devConfig();
  } catch (error) {
    if (!(error instanceof DevConfigError)) throw error;
    process.stderr.write(`error: ${error.message}\n\n${ENV_HELP}\n`);
    return 2;
  }
  const started = performance.now();
  log.info("stack", `starting the local market (data in ${config.dataDir})`);
  const stack = await startStack(config, log);
  process.stderr.write(urls(stack));

  const stopped = new Promise<void>((resolve) => {
    const onSignal = () => {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      // A second Ctrl-C while stopping leaves at once.
      process.once("SIGINT", () => process.exit(130));
      log.info("stack", "stopping ...");
      // Ctrl-C reaches the embedded PostgreSQL too, which may close connections under the
      // indexer's feet while it stops: such errors are expected now, and only reported.
      process.on("uncaughtException", (error) => {
        log.warn("stack", `while stopping: ${error.message}`);
      });
      stack.stop().then(resolve, resolve);
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
  });
  stack.ready.then(() => {
    log.info(
      "stack",
      `ready in ${since(started)}: the market is seeded and indexed · ${stack.dashboardUrl}`,
    );
  });
  await stopped;
  log.info("stack", "stopped");
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
    const hint = (error as { hint?: string }).hint;
    if (hint) process.stderr.write(`fix: ${hint}\n`);
    process.exitCode = 1;
  },
);
