/**
 * The market's contracts on the local chain: deployed once with `deploy` (governance owning
 * registry and escrow, dev mode voted in), then found again on every later start.
 */
import { deployMarket } from "../commands/deploy.ts";
import type { Credentials } from "../credentials.ts";
import { type Deployment, readDeployment } from "../deployment.ts";
import type { Chain } from "../near.ts";
import { DEMO_GOVERNANCE_CONFIG, MASTER_TOKENS } from "./demo.ts";
import { logIo } from "./io.ts";
import { type DevLog, since } from "./log.ts";
import { createHolders } from "./seed.ts";
import { type DevState, readState, writeState } from "./state.ts";

export interface MarketOptions {
  chain: Chain;
  creds: Credentials;
  master: string;
  deploymentPath: string;
  statePath: string;
  /** Mint tokens to the demo holders too (when the demo market will be seeded). */
  demoHolders: boolean;
}

export async function ensureMarket(
  options: MarketOptions,
  log: DevLog,
): Promise<{ deployment: Deployment; state: DevState }> {
  const { chain } = options;
  const deployment = readDeployment(options.deploymentPath);
  const state = readState(options.statePath);
  if (deployment !== null && state !== null) {
    if ((await chain.balance(deployment.registry.account_id)) !== null) {
      log.info(
        "market",
        `contracts found: ${deployment.registry.account_id}, ${deployment.escrow.account_id}, ${deployment.governance.account_id}`,
      );
      return { deployment, state };
    }
    log.warn(
      "market",
      "the deployment file names contracts this chain does not have; deploying again",
    );
  }
  const started = performance.now();
  const head = await chain.provider.viewBlock({ finality: "final" });
  const holders = options.demoHolders
    ? await createHolders(chain, options.creds, options.master)
    : [];
  const result = await deployMarket(
    {
      chain,
      creds: options.creds,
      master: options.master,
      build: false,
      devMode: true,
      keepKeys: false,
      deploymentPath: options.deploymentPath,
      governanceConfig: DEMO_GOVERNANCE_CONFIG,
      holders: [
        { account_id: options.master, amount: MASTER_TOKENS.toString() },
        ...holders.map((h) => ({ account_id: h.account_id, amount: h.tokens.toString() })),
      ],
    },
    logIo(log, "market"),
  );
  const fresh: DevState = { deployed_from_height: Number(head.header.height), seeded: false };
  writeState(options.statePath, fresh);
  log.info("market", `contracts deployed and dev mode voted in (${since(started)})`);
  return { deployment: result, state: fresh };
}
