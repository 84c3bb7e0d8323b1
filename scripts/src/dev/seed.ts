/**
 * Seeds the demo market (demo.ts) through the same command functions the `gpu-market` CLI runs:
 * holders delegate, a proposal adds the verifier (voted and executed), providers register
 * machines (none-dev, dev mode) with attested keysets, then, once the demo agents serve those
 * machines (`startAgents`), clients run real confidential jobs through @gpu-market/client and a
 * few chats through one session (closed and settled at the end), and a second proposal stays open
 * with votes on both sides.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Job } from "@gpu-market/common/src/escrow-types.ts";
import type { Eligibility } from "@gpu-market/common/src/registry-types.ts";
import { sealRequest } from "@gpu-market/protocol";
import { delegate, propose, transition, vote } from "../commands/dao.ts";
import { fastForwardTo } from "../commands/deploy.ts";
import { clientAction, createJob } from "../commands/job.ts";
import { registerProvider } from "../commands/register-provider.ts";
import { type Credentials, loadAccountKey } from "../credentials.ts";
import type { Deployment } from "../deployment.ts";
import { systemRunner } from "../gpu/runner.ts";
import type { Chain } from "../near.ts";
import { YOCTO_PER_NEAR } from "../units.ts";
import { ensureAccount } from "./accounts.ts";
import {
  DEMO_CLIENTS,
  DEMO_HOLDERS,
  DEMO_JOBS,
  DEMO_MAX_TOKENS,
  DEMO_MODEL_NAME,
  DEMO_OFFLINE_MACHINE,
  DEMO_PROVIDERS,
  DEMO_SESSION,
  DEMO_VERIFIER,
} from "./demo.ts";
import { logIo } from "./io.ts";
import { type DevLog, since } from "./log.ts";

export interface SeedOptions {
  chain: Chain;
  creds: Credentials;
  master: string;
  deployment: Deployment;
  /** Folder for the demo's hardware files and machine keys. */
  dir: string;
  /** Each demo provider's endpoint, in DEMO_PROVIDERS order. */
  endpoints: string[];
  /** Starts the agents that serve the registered machines; the jobs run once it resolves. */
  startAgents: () => Promise<void>;
}

/** The holders' accounts, made before deploy so that the token is minted to them. */
export async function createHolders(chain: Chain, creds: Credentials, master: string) {
  const holders: { account_id: string; tokens: bigint }[] = [];
  for (const holder of DEMO_HOLDERS) {
    const id = await ensureAccount(chain, creds, master, holder.name, 20n);
    holders.push({ account_id: id, tokens: holder.tokens });
  }
  return holders;
}

async function passProposal(
  options: SeedOptions,
  voters: string[],
  description: string,
  actions: unknown[],
  log: DevLog,
): Promise<void> {
  const dao = { chain: options.chain, governance: options.deployment.governance.account_id };
  const io = logIo(log, "seed", false);
  const proposal = await propose(
    { ...dao, proposer: options.master, description, request: { kind: "actions", actions } },
    io,
  );
  await fastForwardTo(options.chain, proposal.snapshot_height + 1);
  for (const voter of voters) {
    await vote({ ...dao, voter, proposalId: proposal.id, support: "for" }, io);
  }
  await fastForwardTo(options.chain, proposal.vote_end_height + 1);
  const queued = await transition(
    { ...dao, account: options.master, proposalId: proposal.id, action: "queue" },
    io,
  );
  await fastForwardTo(options.chain, queued.eta_height ?? 0);
  const done = await transition(
    { ...dao, account: options.master, proposalId: proposal.id, action: "execute" },
    io,
  );
  if (done.status !== "executed") {
    throw new Error(`proposal ${done.id} ended ${done.status}: ${done.failure ?? ""}`);
  }
  log.info("seed", `proposal #${done.id} executed: ${description}`);
}

interface DemoMachineRef {
  id: string;
  provider: string;
  keyPath: string;
  /** The provider's registered endpoint (its agent). */
  endpoint: string;
}

/**
 * Registers every demo machine (none-dev) with a keyset: its own signing and encryption keys, in
 * <dir>/<provider>-<index>-machine-key.json (both private keys and, once registered, the keyset:
 * what a provider agent serves from), and the tiny model written to <dir>/models/.
 */
async function registerMachines(options: SeedOptions, log: DevLog): Promise<DemoMachineRef[]> {
  const { chain, creds, master, dir } = options;
  const machines: DemoMachineRef[] = [];
  const { writeTinyModel } = await import("@gpu-market/model-server");
  const model = await writeTinyModel(join(dir, "models", `${DEMO_MODEL_NAME}.gguf`));
  for (const [providerIndex, provider] of DEMO_PROVIDERS.entries()) {
    const endpoint = options.endpoints[providerIndex];
    if (endpoint === undefined) throw new Error(`no endpoint for demo provider ${provider.name}`);
    const account = await ensureAccount(chain, creds, master, provider.name, 60n);
    for (const [index, machine] of provider.machines.entries()) {
      const hardwarePath = join(dir, `${provider.name}-${index}-hardware.json`);
      writeFileSync(
        hardwarePath,
        JSON.stringify({
          gpus: [
            {
              ...machine.gpu,
              driver: "580.159.04",
              vbios: "96.00.9F.00.04",
              cc_mode: "on",
            },
          ],
          cpu_cores: machine.cpuCores,
          ram_mib: machine.ramMib,
        }),
      );
      const keyPath = join(dir, `${provider.name}-${index}-machine-key.json`);
      const result = await registerProvider(
        {
          chain,
          registry: options.deployment.registry.account_id,
          provider: account,
          name: provider.label,
          endpoint,
          region: provider.region,
          pricePerUnit: machine.price,
          tee: "none-dev",
          hardwarePath,
          machineKeyPath: keyPath,
          models: [{ name: DEMO_MODEL_NAME, path: model.path }],
          dryRun: false,
          waitSeconds: 0,
          runner: systemRunner,
          host: { cpuCores: machine.cpuCores, ramMib: machine.ramMib },
          tsmRoot: join(dir, "no-tsm"),
        },
        logIo(log, "seed", false),
      );
      if (result.machine === null) throw new Error(`${account}: no machine was registered`);
      machines.push({ id: result.machine.id, provider: account, keyPath, endpoint });
      log.info(
        "seed",
        `${provider.label}: machine #${result.machine.id} (${machine.gpu.count}× ${machine.gpu.model})`,
      );
    }
  }
  return machines;
}

/** The client's key from the stack's keystore, for @gpu-market/client. */
function clientMarket(options: SeedOptions, client: string) {
  return import("@gpu-market/client").then(
    ({ GpuMarket }) =>
      new GpuMarket({
        registry: options.deployment.registry.account_id,
        escrow: options.deployment.escrow.account_id,
        network: { rpcUrl: options.chain.network.rpcUrl },
        account: { accountId: client, signer: loadAccountKey(options.creds, "localnet", client) },
        pollIntervalMs: 200,
        // The demo clients' session keys live with the demo's other files.
        stateDir: join(options.dir, "clients"),
      }),
  );
}

/** Waits until the job leaves `status` (the agent acts on its own), at most `seconds`. */
async function waitPast(options: SeedOptions, jobId: string, status: string, seconds: number) {
  const escrow = options.deployment.escrow.account_id;
  for (let i = 0; i < seconds * 5; i++) {
    const job = await options.chain.view<Job | null>(escrow, "job", { job_id: jobId });
    if (job === null) throw new Error(`job ${jobId} is not on the escrow`);
    if (job.status !== status) return job;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`job ${jobId} is still ${status} after ${seconds} s`);
}

/**
 * A paid job whose request is sealed but never inferred: not uploaded (requested, refunded), or
 * sealed for another client so that it does not decrypt for this job (failed: the agent gives it
 * back with a signed bad_request and the escrow refunds it in full).
 */
async function paidJob(
  options: SeedOptions,
  machine: DemoMachineRef,
  client: string,
  plan: (typeof DEMO_JOBS)[number],
  log: DevLog,
): Promise<Job> {
  const { chain } = options;
  const escrow = options.deployment.escrow.account_id;
  const registry = options.deployment.registry.account_id;
  const io = logIo(log, "seed", false);
  const attested = await chain.view<Eligibility>(registry, "is_eligible", {
    machine_id: machine.id,
  });
  const model = attested.models?.[0];
  if (model === undefined || attested.keyset_sha256 === null || attested.encryption_key === null) {
    throw new Error(`machine #${machine.id} has no attested keyset`);
  }
  const sealedFor = plan.plan === "failed" ? `someone-else.${options.master}` : client;
  const sealed = await sealRequest(
    {
      escrow,
      client: sealedFor,
      machine_id: machine.id,
      model: model.weights_sha256,
      keyset_sha256: attested.keyset_sha256,
    },
    attested.encryption_key,
    {
      model: model.name,
      messages: [{ role: "user", content: plan.prompt }],
      max_tokens: DEMO_MAX_TOKENS,
    },
  );
  const job = await createJob(
    {
      chain,
      escrow,
      registry,
      client,
      machineId: machine.id,
      asset: "NEAR",
      maxAmount: YOCTO_PER_NEAR,
      modelHash: model.weights_sha256,
      inputHash: sealed.inputHash,
      keysetSha256: attested.keyset_sha256,
      acceptWithinNs: 3600n * 1_000_000_000n,
      deliverWithinNs: 3600n * 1_000_000_000n,
    },
    io,
  );
  if (plan.plan === "refunded") {
    await clientAction({ chain, escrow, account: client, jobId: job.id, action: "cancel" }, io);
  }
  if (plan.plan === "failed") {
    const response = await fetch(`${machine.endpoint}/jobs/${job.id}/request`, {
      method: "PUT",
      body: sealed.envelope,
    });
    if (!response.ok) throw new Error(`uploading job ${job.id}'s request: ${response.status}`);
    return waitPast(options, job.id, "requested", 30).then((j) =>
      j.status === "accepted" ? waitPast(options, job.id, "accepted", 30) : j,
    );
  }
  return job;
}

async function runJobs(options: SeedOptions, machines: DemoMachineRef[], log: DevLog) {
  const { chain, creds, master } = options;
  const escrow = options.deployment.escrow.account_id;
  const clients: string[] = [];
  for (const name of DEMO_CLIENTS)
    clients.push(await ensureAccount(chain, creds, master, name, 50n));
  const io = logIo(log, "seed", false);
  for (const [index, plan] of DEMO_JOBS.entries()) {
    const machine = machines[plan.machine];
    const client = clients[plan.client];
    if (machine === undefined || client === undefined)
      throw new Error(`demo job ${index}: no such machine or client`);
    if (plan.plan === "settled" || plan.plan === "delivered" || plan.plan === "disputed") {
      const market = await clientMarket(options, client);
      const result = await market.infer({
        mode: "job",
        model: DEMO_MODEL_NAME,
        messages: [{ role: "user", content: plan.prompt }],
        maxAmount: YOCTO_PER_NEAR,
        maxTokens: DEMO_MAX_TOKENS,
        machine: machine.id,
        seed: index,
        confirm: plan.plan === "settled",
      });
      if (plan.plan === "disputed") {
        const reason = "the answer does not answer the question";
        await clientAction(
          { chain, escrow, account: client, jobId: result.jobId, action: "dispute", reason },
          io,
        );
      }
      log.info(
        "seed",
        `job #${result.jobId} on machine #${machine.id}: ${plan.plan}, ${result.usage.promptTokens} + ${result.usage.completionTokens} tokens, encrypted end to end`,
      );
      continue;
    }
    const job = await paidJob(options, machine, client, plan, log);
    log.info("seed", `job #${job.id} on machine #${machine.id}: ${plan.plan}`);
  }
}

/** A few chats in one session, then closed: no transaction per chat, one to open, two to close. */
async function runSession(options: SeedOptions, machines: DemoMachineRef[], log: DevLog) {
  const machine = machines[DEMO_SESSION.machine];
  const name = DEMO_CLIENTS[DEMO_SESSION.client];
  if (machine === undefined || name === undefined)
    throw new Error("demo session: no such machine or client");
  const client = `${name}.${options.master}`;
  const market = await clientMarket(options, client);
  const session = await market.openSession({
    model: DEMO_MODEL_NAME,
    machine: machine.id,
    budget: DEMO_SESSION.budget,
    expiresInSeconds: 3600,
  });
  log.info("seed", `session #${session.id} on machine #${machine.id}: opened by ${client}`);
  for (const [index, prompt] of DEMO_SESSION.prompts.entries()) {
    const answer = await session.chat({
      messages: [{ role: "user", content: prompt }],
      maxTokens: DEMO_MAX_TOKENS,
      seed: index,
    });
    log.info(
      "seed",
      `session #${session.id}: chat ${index + 1}, ${answer.usage.promptTokens} + ${answer.usage.completionTokens} tokens, charged ${answer.charged} of ${answer.budget} (no transaction)`,
    );
  }
  const closed = await session.close();
  log.info(
    "seed",
    `session #${session.id}: ${closed.status}, provider paid ${closed.providerPayout}, ${closed.refund} refunded`,
  );
}

/** An open proposal with votes on both sides, for live tallies. */
async function openProposal(options: SeedOptions, holders: string[], log: DevLog) {
  const dao = { chain: options.chain, governance: options.deployment.governance.account_id };
  const io = logIo(log, "seed", false);
  const proposal = await propose(
    {
      ...dao,
      proposer: options.master,
      description: "Lower the protocol fee to 0.5%",
      request: {
        kind: "actions",
        actions: [
          {
            kind: "function_call",
            target: options.deployment.escrow.account_id,
            method: "set_params",
            args: { params: { fee_bps: 50 } },
          },
        ],
      },
    },
    io,
  );
  await fastForwardTo(options.chain, proposal.snapshot_height + 1);
  const [first, second] = holders;
  if (first) await vote({ ...dao, voter: first, proposalId: proposal.id, support: "for" }, io);
  if (second) {
    await vote({ ...dao, voter: second, proposalId: proposal.id, support: "against" }, io);
  }
  log.info(
    "seed",
    `proposal #${proposal.id} open for votes until height ${proposal.vote_end_height}`,
  );
}

export async function seedMarket(options: SeedOptions, log: DevLog): Promise<void> {
  const started = performance.now();
  mkdirSync(options.dir, { recursive: true, mode: 0o700 });
  const { chain, creds, master } = options;
  const dao = { chain, governance: options.deployment.governance.account_id };
  const holders = DEMO_HOLDERS.map((h) => `${h.name}.${master}`);
  for (const holder of holders) {
    await delegate({ ...dao, account: holder, delegatee: holder }, logIo(log, "seed", false));
  }
  const verifier = await ensureAccount(chain, creds, master, DEMO_VERIFIER, 10n);
  await passProposal(
    options,
    [master, ...holders],
    `Add ${verifier} to the verifier set`,
    [
      {
        kind: "function_call",
        target: options.deployment.registry.account_id,
        method: "add_verifier",
        args: { account_id: verifier },
      },
    ],
    log,
  );
  const machines = await registerMachines(options, log);
  await options.startAgents();
  await runJobs(options, machines, log);
  await runSession(options, machines, log);
  await openProposal(options, holders, log);
  // One machine goes offline, so that the market shows an ineligible machine too.
  const offline = machines[DEMO_OFFLINE_MACHINE];
  if (offline !== undefined) {
    await chain.call(
      offline.provider,
      options.deployment.registry.account_id,
      "deactivate_machine",
      { machine_id: offline.id },
      { deposit: YOCTO_PER_NEAR / 100n },
    );
    log.info("seed", `machine #${offline.id} deactivated by ${offline.provider} (maintenance)`);
  }
  log.info("seed", `demo market seeded in ${since(started)}`);
}
