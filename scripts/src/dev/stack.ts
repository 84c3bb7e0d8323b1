/**
 * The whole local market in one process: localnet (persistent), the contracts (deployed once),
 * the indexer with its query API and dashboard, a verifier, and the demo market (seeded once).
 * `startStack` resolves when every service is up; `ready` settles when the demo is seeded and
 * indexed.
 */
import { join } from "node:path";
import type { App } from "../../../indexer/src/app.ts";
import type { Localnet } from "../../../localnet/src/index.ts";
import type { Credentials } from "../credentials.ts";
import type { Deployment } from "../deployment.ts";
import { Chain } from "../near.ts";
import { ensureAccount } from "./accounts.ts";
import { type DemoAgents, startDemoAgents } from "./agents.ts";
import { agentPorts, type DevConfig, devPaths } from "./config.ts";
import { ensureContracts } from "./contracts.ts";
import { DEMO_VERIFIER, demoEndpoint } from "./demo.ts";
import { startIndexer } from "./indexer.ts";
import { saveValidatorKey, startDevLocalnet } from "./localnet.ts";
import { type DevLog, since } from "./log.ts";
import { ensureMarket } from "./market.ts";
import { seedMarket } from "./seed.ts";
import { writeState } from "./state.ts";
import { startVerifier } from "./verifier.ts";

export interface Stack {
  rpcUrl: string;
  apiUrl: string;
  dashboardUrl: string;
  deployment: Deployment;
  credentialsDir: string;
  deploymentPath: string;
  net: Localnet;
  app: App;
  /** Resolves once the demo market is seeded (if it was to be) and the indexer has caught up. */
  ready: Promise<void>;
  stop(): Promise<void>;
}

/** Waits until the indexer has committed the chain's current final height. */
async function caughtUp(app: App, net: Localnet, stopped: () => boolean): Promise<void> {
  const target = Number(net.node.blockAt("final").height);
  while (!stopped() && (app.indexer?.status.height ?? -1) < target) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export async function startStack(
  config: DevConfig,
  log: DevLog,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Stack> {
  const started = performance.now();
  const paths = devPaths(config);
  const stoppers: { name: string; stop: () => Promise<void> }[] = [];
  let stopping = false;
  // Stopped in this order: the agents (running answers finish and are delivered), the verifier, then localnet (no new blocks), then the indexer and its
  // database. Each part is crash-safe (fsync'd chain log, one transaction per indexed batch), so
  // an exit part-way (a second Ctrl-C) loses nothing.
  const stop = async () => {
    stopping = true;
    const order = ["agents", "verifier", "localnet", "indexer"];
    stoppers.sort((a, b) => order.indexOf(a.name) - order.indexOf(b.name));
    for (const { name, stop: stopOne } of stoppers) {
      try {
        await stopOne();
      } catch (error) {
        log.error("stack", `stopping ${name}: ${(error as Error).message}`);
      }
    }
    stoppers.length = 0;
  };
  try {
    await ensureContracts(config.root, log);
    const local = await startDevLocalnet(
      {
        home: paths.localnetHome,
        host: config.host,
        port: config.rpcPort,
        blockIntervalMs: config.blockIntervalMs,
      },
      log,
    );
    const net = local.net;
    stoppers.push({ name: "localnet", stop: () => net.stop() });

    const creds: Credentials = { dir: paths.credentials, env: {} };
    const master = saveValidatorKey(creds, net);
    const chain = new Chain({ id: "localnet", rpcUrl: net.rpcUrl }, creds);
    const { deployment, state } = await ensureMarket(
      {
        chain,
        creds,
        master,
        deploymentPath: paths.deployment,
        statePath: paths.state,
        demoHolders: config.seed,
      },
      log,
    );

    const app = await startIndexer(
      {
        rpcUrl: net.rpcUrl,
        deployment,
        startHeight: state.deployed_from_height,
        dataDir: paths.postgres,
        pgPort: config.pgPort,
        host: config.host,
        apiPort: config.apiPort,
        env,
      },
      log,
    );
    stoppers.push({ name: "indexer", stop: () => app.stop() });
    app.done.catch((error: unknown) => {
      if (!stopping) log.error("indexer", `stopped: ${(error as Error).message}`);
    });

    const verifierAccount = await ensureAccount(chain, creds, master, DEMO_VERIFIER, 10n);
    const verifier = startVerifier(
      {
        rpcUrl: net.rpcUrl,
        registry: deployment.registry.account_id,
        account: verifierAccount,
        credentialsDir: paths.credentials,
        postedPath: paths.verifierPosted,
        intervalMs: 2000,
      },
      log,
    );
    stoppers.push({ name: "verifier", stop: () => verifier.stop() });
    log.info("stack", `services up in ${since(started)}`);

    // The demo agents serve the demo machines once they are registered: on a fresh chain the seed
    // starts them between registration and the jobs; on a resumed chain they start right away.
    let agents: DemoAgents | null = null;
    const startAgents = async () => {
      agents = await startDemoAgents(
        {
          rpcUrl: net.rpcUrl,
          deployment,
          master,
          host: config.host,
          backendPort: config.backendPort,
          agentPorts: agentPorts(config),
          credentialsDir: paths.credentials,
          demoDir: paths.demo,
          agentsDir: paths.agents,
        },
        log,
      );
      stoppers.push({ name: "agents", stop: () => agents?.stop() ?? Promise.resolve() });
    };
    const endpoints = agentPorts(config).map((port) => demoEndpoint(config.host, port));

    const ready = (async () => {
      if (state.seeded && config.seed) await startAgents();
      if (config.seed && !state.seeded) {
        try {
          await seedMarket(
            { chain, creds, master, deployment, dir: join(paths.demo), endpoints, startAgents },
            log,
          );
          writeState(paths.state, { ...state, seeded: true });
        } catch (error) {
          if (stopping) return;
          log.error(
            "seed",
            `seeding the demo market failed: ${(error as Error).message} (the stack keeps running; \`rm -rf ${config.dataDir}\` starts afresh)`,
          );
        }
      }
      await caughtUp(app, net, () => stopping);
    })();

    return {
      rpcUrl: net.rpcUrl,
      apiUrl: app.apiUrl,
      dashboardUrl: `${app.apiUrl}/dashboard/`,
      deployment,
      credentialsDir: paths.credentials,
      deploymentPath: paths.deployment,
      net,
      app,
      ready,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
