/**
 * deploy: build the contracts reproducibly (or take a previous build), create one account per
 * contract under the master account, deploy and initialise governance, registry and escrow wired
 * together (registry and escrow owned by governance, fees to the governance treasury), print the
 * code hashes, and write the deployment file the other commands read.
 *
 * Each contract account is created, funded, deployed and initialised in one transaction, with no
 * access key unless keepKeys: nobody can change the code afterwards except through a governance
 * vote. On localnet, dev mode (none-dev machines eligible) is enabled by a real governance
 * proposal, voted by the holders and executed after fast-forwarding the chain.
 */
import { actions, KeyPair } from "near-api-js";
import {
  type Artifact,
  type ContractName,
  MARKET_CONTRACTS,
  prebuilt,
  rebuild,
} from "../artifacts.ts";
import { type Credentials, saveAccountKey } from "../credentials.ts";
import { type Deployment, writeDeployment } from "../deployment.ts";
import { CliError } from "../errors.ts";
import { type Io, step } from "../io.ts";
import type { Chain } from "../near.ts";
import { formatNear, TGAS, YOCTO_PER_NEAR } from "../units.ts";
import { delegate, propose, transition, vote } from "./dao.ts";

export interface DeployOptions {
  chain: Chain;
  creds: Credentials;
  /** Pays for everything; contract accounts are created as <name>.<master>. */
  master: string;
  /** Account names; default `<contract>.<master>`. */
  accounts?: Partial<Record<ContractName, string>>;
  /** Rebuild from source (true) or use build/contracts (false). */
  build: boolean;
  /** NEAR each contract account starts with (code storage: ~6 NEAR for 560 KB). */
  fundEach?: bigint;
  /** Governance token holders; default: the master holds 1 000 000 tokens. */
  holders?: { account_id: string; amount: string }[];
  governanceConfig?: Record<string, unknown>;
  registryParams?: Record<string, unknown>;
  escrowParams?: Record<string, unknown>;
  /** Resolves disputes; default the governance account itself. */
  arbiter?: string;
  /** Enable the registry's dev mode through a governance vote (localnet only). */
  devMode: boolean;
  /** Add a full-access key to each contract account (saved in the keystore). */
  keepKeys: boolean;
  deploymentPath: string;
}

export interface DeployResult extends Deployment {
  dev_mode: boolean;
}

const TOKEN = 10n ** 24n;
const INIT_GAS = 100n * TGAS;

function initArgs(
  name: ContractName,
  ids: Record<ContractName, string>,
  options: DeployOptions,
  arbiter: string,
): Record<string, unknown> {
  switch (name) {
    case "governance":
      return {
        holders: options.holders ?? [
          { account_id: options.master, amount: (1_000_000n * TOKEN).toString() },
        ],
        config: { ...options.governanceConfig, governed: [ids.registry, ids.escrow] },
      };
    case "registry":
      return {
        owner: ids.governance,
        treasury: ids.governance,
        // withdraw_bond asks the escrow whether the provider still has disputable jobs.
        escrow: ids.escrow,
        ...(options.registryParams === undefined ? {} : { params: options.registryParams }),
      };
    case "escrow":
      return {
        owner: ids.governance,
        treasury: ids.governance,
        arbiter,
        registry: ids.registry,
        ...(options.escrowParams === undefined ? {} : { params: options.escrowParams }),
      };
  }
}

export async function deployMarket(options: DeployOptions, io: Io): Promise<DeployResult> {
  const { chain, master } = options;
  const network = chain.network.id;
  if (options.devMode && network !== "localnet") {
    throw new CliError(`dev mode is for localnet only, not ${network}`, {
      hint: "drop --dev-mode; on testnet enable it later by a governance proposal if you must",
    });
  }
  const ids: Record<ContractName, string> = {
    governance: options.accounts?.governance ?? `governance.${master}`,
    registry: options.accounts?.registry ?? `registry.${master}`,
    escrow: options.accounts?.escrow ?? `escrow.${master}`,
  };
  const arbiter = options.arbiter ?? ids.governance;
  if (
    options.devMode &&
    options.holders !== undefined &&
    !options.holders.some((h) => h.account_id === master)
  ) {
    throw new CliError(
      `dev mode is enabled by a vote of ${master}, which is not among the holders`,
      {
        hint: `add ${master}=<tokens> to --holders, or pass --no-dev-mode`,
      },
    );
  }
  const fundEach = options.fundEach ?? 10n * YOCTO_PER_NEAR;

  // Checks before spending anything.
  const balance = await chain.balance(master);
  if (balance === null) {
    throw new CliError(`the master account ${master} does not exist on ${network}`, {
      hint: "create and fund it first (testnet: near-cli `near account create-account sponsor-by-faucet-service`)",
    });
  }
  chain.account(master);
  const needed = fundEach * 3n + YOCTO_PER_NEAR;
  if (balance.available < needed) {
    throw new CliError(
      `${master} has ${formatNear(balance.available)} available, deploying needs about ${formatNear(needed)}`,
      { hint: `fund ${master}, or lower --fund-each (each account must hold its code's storage)` },
    );
  }
  for (const name of MARKET_CONTRACTS) {
    if ((await chain.balance(ids[name])) !== null) {
      throw new CliError(`${ids[name]} already exists on ${network}`, {
        hint: "deploy under another master account, or name new accounts with --prefix",
      });
    }
  }

  const artifacts: Artifact[] = options.build
    ? await step(io, "building the contracts (reproducible)", () => rebuild(MARKET_CONTRACTS, io))
    : prebuilt(MARKET_CONTRACTS);
  const byName = new Map(artifacts.map((a) => [a.name, a]));

  const deployed = {} as Record<ContractName, Deployment["registry"]>;
  for (const name of MARKET_CONTRACTS) {
    const artifact = byName.get(name);
    if (artifact === undefined) throw new CliError(`no ${name} wasm was built`);
    const list = [actions.createAccount(), actions.transfer(fundEach)];
    if (options.keepKeys) {
      const keyPair = KeyPair.fromRandom("ed25519");
      saveAccountKey(options.creds, network, ids[name], keyPair);
      list.push(actions.addFullAccessKey(keyPair.getPublicKey()));
    }
    list.push(
      actions.deployContract(artifact.wasm),
      actions.functionCall("init", initArgs(name, ids, options, arbiter), INIT_GAS, 0n),
    );
    await step(
      io,
      `creating ${ids[name]} and deploying ${name} (${artifact.wasm.length} bytes)`,
      () => chain.send(master, ids[name], list, `deploying ${name} to ${ids[name]}`),
    );
    const code = await chain.provider.viewContractCode({
      contractId: ids[name],
      blockQuery: { finality: "final" },
    });
    if (code.hash !== artifact.codeHash) {
      throw new CliError(`${ids[name]} reports code hash ${code.hash}, built ${artifact.codeHash}`);
    }
    deployed[name] = {
      account_id: ids[name],
      sha256: artifact.sha256,
      code_hash: artifact.codeHash,
    };
  }

  if (options.devMode) {
    await enableDevMode(options, ids, io);
  }

  const result: DeployResult = {
    network,
    rpc_url: chain.network.rpcUrl,
    registry: deployed.registry,
    escrow: deployed.escrow,
    governance: deployed.governance,
    treasury: ids.governance,
    arbiter,
    deployed_at: new Date().toISOString(),
    dev_mode: options.devMode,
  };
  writeDeployment(options.deploymentPath, result);
  io.line(`deployed on ${network} (deployment file ${options.deploymentPath}):`);
  for (const name of MARKET_CONTRACTS) {
    const d = deployed[name];
    io.line(
      `  ${name.padEnd(10)} ${d.account_id.padEnd(28)} code hash ${d.code_hash}  sha256 ${d.sha256}`,
    );
  }
  io.line(
    `  registry and escrow are owned by ${ids.governance}; treasury ${ids.governance}; arbiter ${arbiter}`,
  );
  if (!options.keepKeys)
    io.line("  the contract accounts have no access keys: only governance can change them");
  io.result(result);
  return result;
}

/** set_dev_mode through governance: delegate, propose, vote, and fast-forward past each wait. */
async function enableDevMode(
  options: DeployOptions,
  ids: Record<ContractName, string>,
  io: Io,
): Promise<void> {
  const target = { chain: options.chain, governance: ids.governance };
  const holder = options.master;
  const quiet = { ...io, line: () => {}, result: () => {} };
  await step(io, "enabling dev mode through a governance vote", async () => {
    await delegate({ ...target, account: holder, delegatee: holder }, quiet);
    const proposal = await propose(
      {
        ...target,
        proposer: holder,
        description: "Enable dev mode on localnet (none-dev machines become eligible)",
        request: {
          kind: "actions",
          actions: [
            {
              kind: "function_call",
              target: ids.registry,
              method: "set_dev_mode",
              args: { enabled: true },
            },
          ],
        },
      },
      quiet,
    );
    await fastForwardTo(options.chain, proposal.snapshot_height + 1);
    await vote({ ...target, voter: holder, proposalId: proposal.id, support: "for" }, quiet);
    await fastForwardTo(options.chain, proposal.vote_end_height + 1);
    const queued = await transition(
      { ...target, account: holder, proposalId: proposal.id, action: "queue" },
      quiet,
    );
    await fastForwardTo(options.chain, queued.eta_height ?? 0);
    const done = await transition(
      { ...target, account: holder, proposalId: proposal.id, action: "execute" },
      quiet,
    );
    if (done.status !== "executed") {
      throw new CliError(
        `the dev-mode proposal ${done.id} ended ${done.status}: ${done.failure ?? ""}`,
      );
    }
  });
  const info = await options.chain.view<{ dev_mode: boolean }>(ids.registry, "registry_info");
  if (!info.dev_mode)
    throw new CliError("the dev-mode proposal executed but the registry is not in dev mode");
}

/** localnet (and near-sandbox) only: produce blocks until the final head is at least `height`. */
export async function fastForwardTo(chain: Chain, height: number): Promise<void> {
  const head = await chain.provider.viewBlock({ finality: "final" });
  const delta = height - Number(head.header.height);
  if (delta <= 0) return;
  const response = await fetch(chain.network.rpcUrl, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      jsonrpc: "2.0",
      id: "ff",
      method: "sandbox_fast_forward",
      params: { delta_height: delta + 2 },
    }),
  });
  const body = (await response.json()) as { error?: unknown };
  if (body.error !== undefined) {
    throw new CliError(`sandbox_fast_forward failed: ${JSON.stringify(body.error)}`, {
      hint: "fast-forwarding needs localnet or near-sandbox",
    });
  }
}
