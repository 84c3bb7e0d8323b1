/**
 * Seeds the demo market (demo.ts) through the same command functions the `gpu-market` CLI runs:
 * holders delegate, a proposal adds the verifier (voted and executed), providers register
 * machines (none-dev, dev mode), clients create jobs that providers take to several states, and a
 * second proposal stays open with votes on both sides. The provider's side of a job (accept,
 * deliver a receipt signed by the machine key, or fail it with a signed code) is what a provider
 * agent does; it is done here directly, as in the scripts' end-to-end test.
 */
import { createHash } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Job } from "@gpu-market/common/src/escrow-types.ts";
import {
  failureBytes,
  type ModelEntry,
  receiptBytes,
} from "@gpu-market/common/src/inference-messages.ts";
import type { Eligibility } from "@gpu-market/common/src/registry-types.ts";
import { KeyPair, type KeyPairString } from "near-api-js";
import { delegate, propose, transition, vote } from "../commands/dao.ts";
import { fastForwardTo } from "../commands/deploy.ts";
import { clientAction, createJob } from "../commands/job.ts";
import { registerProvider } from "../commands/register-provider.ts";
import { type Credentials, readKeyFile } from "../credentials.ts";
import type { Deployment } from "../deployment.ts";
import { systemRunner } from "../gpu/runner.ts";
import type { Chain } from "../near.ts";
import { YOCTO_PER_NEAR } from "../units.ts";
import { ensureAccount } from "./accounts.ts";
import {
  DEMO_CLIENTS,
  DEMO_HOLDERS,
  DEMO_JOBS,
  DEMO_MODEL_NAME,
  DEMO_OFFLINE_MACHINE,
  DEMO_PROVIDERS,
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
}

const sha = (text: string) => createHash("sha256").update(text).digest("hex");

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
  for (const provider of DEMO_PROVIDERS) {
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
          endpoint: provider.endpoint,
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
      machines.push({ id: result.machine.id, provider: account, keyPath });
      log.info(
        "seed",
        `${provider.label}: machine #${result.machine.id} (${machine.gpu.count}× ${machine.gpu.model})`,
      );
    }
  }
  return machines;
}

/** The machine key's signature (hex) over sha256 of a signed document, as the escrow checks it. */
function machineSignature(machine: DemoMachineRef, document: Uint8Array): string {
  const key = KeyPair.fromString(readKeyFile(machine.keyPath).private_key as KeyPairString);
  const digest = createHash("sha256").update(document).digest();
  return Buffer.from(key.sign(digest).signature).toString("hex");
}

/**
 * The provider agent's part: accept, then deliver a receipt signed by the machine key (the model
 * asked for, the job's request hash, a response hash and the token counts), or give the job back
 * with a signed failure.
 */
async function providerWork(
  options: SeedOptions,
  machine: DemoMachineRef,
  job: Job,
  model: ModelEntry,
  plan: (typeof DEMO_JOBS)[number],
): Promise<void> {
  const escrow = options.deployment.escrow.account_id;
  const call = (method: string, args: Record<string, unknown>) =>
    options.chain.call(machine.provider, escrow, method, args);
  if (plan.plan === "requested" || plan.plan === "refunded") return;
  if (plan.plan === "failed") {
    const code = "capacity";
    const notice = failureBytes({ escrow, job_id: job.id, code });
    await call("fail_job", { job_id: job.id, code, signature: machineSignature(machine, notice) });
    return;
  }
  await call("accept_job", { job_id: job.id });
  if (plan.plan === "accepted") return;
  const receipt = {
    model: model.name,
    weights_sha256: job.model_hash,
    request_sha256: job.input_hash,
    response_sha256: sha(`response of job ${job.id}`),
    prompt_tokens: plan.promptTokens.toString(),
    completion_tokens: plan.completionTokens.toString(),
    chunks: "1",
  };
  const signed = receiptBytes({ escrow, job_id: job.id, ...receipt });
  await call("deliver_job", {
    job_id: job.id,
    receipt,
    signature: machineSignature(machine, signed),
  });
}

async function runJobs(options: SeedOptions, machines: DemoMachineRef[], log: DevLog) {
  const { chain, creds, master } = options;
  const escrow = options.deployment.escrow.account_id;
  const registry = options.deployment.registry.account_id;
  const clients: string[] = [];
  for (const name of DEMO_CLIENTS)
    clients.push(await ensureAccount(chain, creds, master, name, 50n));
  const io = logIo(log, "seed", false);
  for (const [index, plan] of DEMO_JOBS.entries()) {
    const machine = machines[plan.machine];
    const client = clients[plan.client];
    if (machine === undefined || client === undefined)
      throw new Error(`demo job ${index}: no such machine or client`);
    // The client's side: the machine's attested keyset and first model, as a client reads them.
    const attested = await chain.view<Eligibility>(registry, "is_eligible", {
      machine_id: machine.id,
    });
    const model = attested.models?.[0];
    if (model === undefined || attested.keyset_sha256 === null) {
      throw new Error(`demo job ${index}: machine #${machine.id} has no attested keyset`);
    }
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
        inputHash: sha(`request envelope ${index}`),
        keysetSha256: attested.keyset_sha256,
        acceptWithinNs: 3600n * 1_000_000_000n,
        deliverWithinNs: 3600n * 1_000_000_000n,
      },
      io,
    );
    await providerWork(options, machine, job, model, plan);
    const target = { chain, escrow, account: client, jobId: job.id };
    if (plan.plan === "settled") await clientAction({ ...target, action: "confirm" }, io);
    if (plan.plan === "refunded") await clientAction({ ...target, action: "cancel" }, io);
    if (plan.plan === "disputed") {
      await clientAction({ ...target, action: "dispute", reason: "the answer was cut off" }, io);
    }
    log.info("seed", `job #${job.id} on machine #${machine.id}: ${plan.plan}`);
  }
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
  await runJobs(options, machines, log);
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
