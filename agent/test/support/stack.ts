/**
 * The real stack for the agent's end-to-end tests, in this process: localnet, the market deployed
 * by the gpu-market CLI's deploy (governance owning registry and escrow, dev mode voted in), a
 * none-dev machine registered with its keyset (challenge, REPORTDATA = keyset_sha256 || nonce, dev
 * report), the model server on a generated tiny GGUF, and a client that does everything with
 * protocol/ and near-api-js directly.
 */
import { createHash } from "node:crypto";
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Job } from "@gpu-market/common/src/escrow-types.ts";
import { machineKeyProofBytes } from "@gpu-market/common/src/inference-messages.ts";
import { type ModelServer, startModelServer, writeTinyModel } from "@gpu-market/model-server";
import {
  type ChatRequest,
  encryptionPublicKey,
  generateMachineSecrets,
  type MachineSecrets,
  type ModelEntry,
  type SealedRequest,
  sealRequest,
  signingPublicKey,
} from "@gpu-market/protocol";
import { encodeEvidence } from "@gpu-market/verifier";
import { ed25519 } from "@noble/curves/ed25519.js";
import { baseDecode, baseEncode } from "near-api-js";
import { deployMarket } from "../../../scripts/src/commands/deploy.ts";
import { registerProvider } from "../../../scripts/src/commands/register-provider.ts";
import { memoryIo } from "../../../scripts/src/io.ts";
import { fixtureRunner } from "../../../scripts/test/support/fixture-runner.ts";
import {
  createAccount,
  startTestNet,
  type TestNet,
} from "../../../scripts/test/support/localnet.ts";

export const ONE_NEAR = 10n ** 24n;
export const PRICE = 10n ** 18n;
const TGAS = 10n ** 12n;

export interface Stack {
  t: TestNet;
  registry: string;
  escrow: string;
  treasury: string;
  feeBps: number;
  /** The tiny GGUF model, written at start. */
  model: ModelEntry;
  modelPath: string;
  /** The model server in this process, once startBackend has run. */
  modelServer: ModelServer | null;
  modelPort: number;
  stop(): Promise<void>;
}

/** `escrowParams`: escrow params besides the test defaults (e.g. a short dispute window). */
export async function startStack(escrowParams: Record<string, string> = {}): Promise<Stack> {
  const t = await startTestNet();
  const deployed = await deployMarket(
    {
      chain: t.chain,
      creds: t.creds,
      master: t.master,
      build: false,
      devMode: true,
      keepKeys: false,
      deploymentPath: join(t.dir, "deployment.json"),
      escrowParams: { min_accept_ns: "1000000000", ...escrowParams },
    },
    memoryIo(),
  );
  const params = await t.chain.view<{ fee_bps: number }>(deployed.escrow.account_id, "get_params");
  const modelPath = join(t.dir, "models", "tiny-llama.gguf");
  const tiny = await writeTinyModel(modelPath);
  const stack: Stack = {
    t,
    registry: deployed.registry.account_id,
    escrow: deployed.escrow.account_id,
    treasury: deployed.treasury,
    feeBps: params.fee_bps,
    model: { name: "tiny-llama", weights_sha256: tiny.sha256 },
    modelPath,
    modelServer: null,
    modelPort: 0,
    async stop() {
      await stack.modelServer?.close();
      await t.stop();
    },
  };
  return stack;
}

/**
 * Starts the model server in this process (on the port it had before, if any), or stops it: the
 * backend goes down. Returns its URL.
 */
export async function setBackend(stack: Stack, up: boolean): Promise<string> {
  if (!up) {
    await stack.modelServer?.close();
    stack.modelServer = null;
    return "";
  }
  stack.modelServer = await startModelServer({
    modelPath: stack.modelPath,
    name: "tiny-llama",
    port: stack.modelPort,
  });
  stack.modelPort = Number(new URL(stack.modelServer.url).port);
  return stack.modelServer.url;
}

export interface Machine {
  provider: string;
  machineId: string;
  secrets: MachineSecrets;
  signingKey: string;
  encryptionKey: string;
  keysetSha256: string;
  models: ModelEntry[];
  keyFile: string;
  /** The evidence bytes submitted with add_machine (what the agent serves at /v1/attestation). */
  evidenceFile: string | null;
}

/**
 * Registers `provider` (funded) with one none-dev machine whose keyset lists `models`, and writes
 * the machine key file the agent reads (both secrets, mode 0600).
 */
export async function registerMachine(
  stack: Stack,
  name: string,
  models: ModelEntry[],
  endpoint: string,
): Promise<Machine> {
  const { t, registry } = stack;
  const provider = await createAccount(t, name, 30n);
  const { min_bond } = await t.chain.view<{ min_bond: string }>(registry, "get_params");
  await t.chain.call(
    provider,
    registry,
    "register_provider",
    { name, endpoint, region: "eu-west-1" },
    {
      deposit: BigInt(min_bond) + ONE_NEAR / 20n,
    },
  );
  const secrets = generateMachineSecrets();
  const signingKey = signingPublicKey(secrets.signing);
  const encryptionKey = encryptionPublicKey(secrets.encryption);
  const sorted = [...models].sort((a, b) => (a.name < b.name ? -1 : 1));
  await t.chain.call(
    provider,
    registry,
    "request_challenge",
    { machine_public_key: signingKey },
    {
      deposit: ONE_NEAR / 100n,
    },
  );
  const { keyset_sha256, report_data } = await t.chain.view<{
    keyset_sha256: string;
    report_data: string;
  }>(registry, "report_data", {
    provider,
    machine_public_key: signingKey,
    encryption_key: encryptionKey,
    models: sorted,
  });
  const devReport = JSON.stringify({
    report_data,
    mrtd: "",
    rtmr0: "",
    rtmr1: "",
    rtmr2: "",
    rtmr3: "",
    gpu_driver: "",
    gpu_vbios: "",
  });
  const evidence = encodeEvidence({ devReport });
  const added = await t.chain.call<{ id: string }>(
    provider,
    registry,
    "add_machine",
    {
      machine_public_key: signingKey,
      encryption_key: encryptionKey,
      models: sorted,
      tee_type: "none-dev",
      hardware: {
        gpus: [
          {
            model: "NVIDIA H100 80GB HBM3",
            count: 1,
            vram_mib: 81559,
            driver: "580.159.04",
            vbios: "96.00.CF.00.02",
            cc_mode: "off",
          },
        ],
        cpu_cores: 16,
        ram_mib: 131072,
      },
      price_per_unit: PRICE.toString(),
      evidence: Buffer.from(evidence).toString("base64"),
      // The key's proof of possession: its signature naming the registry, provider and nonce.
      machine_key_signature: Buffer.from(
        ed25519.sign(
          createHash("sha256")
            .update(
              machineKeyProofBytes({
                registry,
                account: provider,
                signing_key: signingKey,
                nonce: report_data.slice(64),
              }),
            )
            .digest(),
          secrets.signing,
        ),
      ).toString("hex"),
    },
    { deposit: ONE_NEAR / 10n, gas: 150n * TGAS },
  );
  const keyFile = join(t.dir, "machines", `${name}.json`);
  mkdirSync(join(t.dir, "machines"), { recursive: true });
  writeFileSync(
    keyFile,
    JSON.stringify({
      account_id: "machine",
      public_key: signingKey,
      private_key: `ed25519:${baseEncode(new Uint8Array([...secrets.signing, ...ed25519.getPublicKey(secrets.signing)]))}`,
      encryption_key: encryptionKey,
      encryption_private_key: `x25519:${Buffer.from(secrets.encryption).toString("hex")}`,
    }),
    { mode: 0o600 },
  );
  chmodSync(keyFile, 0o600);
  const evidenceFile = join(t.dir, "machines", `${name}.evidence`);
  writeFileSync(evidenceFile, evidence);
  return {
    provider,
    machineId: added.value.id,
    secrets,
    signingKey,
    encryptionKey,
    keysetSha256: keyset_sha256,
    models: sorted,
    keyFile,
    evidenceFile,
  };
}

/**
 * Registers `name` the way a provider does, with `gpu-market register-provider`'s command function
 * (none-dev, GPUs from the recorded H100 nvidia-smi output): it writes the machine key file the
 * agent reads, and the evidence it submitted beside it (`<key file>.evidence`), which the agent
 * finds on its own: `evidenceFile` stays null so that no --evidence-file is passed.
 */
export async function registerWithCli(
  stack: Stack,
  name: string,
  endpoint: string,
): Promise<Machine> {
  const provider = await createAccount(stack.t, name, 30n);
  const keyFile = join(stack.t.dir, "machines", `${name}-cli.json`);
  const result = await registerProvider(
    {
      chain: stack.t.chain,
      registry: stack.registry,
      provider,
      name,
      endpoint,
      region: "eu-west-1",
      pricePerUnit: PRICE,
      tee: "none-dev",
      machineKeyPath: keyFile,
      models: [{ name: stack.model.name, path: stack.modelPath }],
      waitSeconds: 10,
      pollMs: 200,
      runner: fixtureRunner("h100-80gb-cc-off"),
      host: { cpuCores: 16, ramMib: 131072 },
      tsmRoot: join(stack.t.dir, "no-tsm"),
      dryRun: false,
    },
    memoryIo(),
  );
  if (result.machine === null || result.keyset_sha256 === null || !result.machine.eligible) {
    throw new Error(
      `register-provider did not register an eligible machine: ${JSON.stringify(result.machine)}`,
    );
  }
  const file = JSON.parse(readFileSync(keyFile, "utf8")) as {
    private_key: string;
    encryption_private_key: string;
  };
  return {
    provider,
    machineId: result.machine.id,
    secrets: {
      signing: new Uint8Array(baseDecode(file.private_key.slice("ed25519:".length))).slice(0, 32),
      encryption: new Uint8Array(
        Buffer.from(file.encryption_private_key.slice("x25519:".length), "hex"),
      ),
    },
    signingKey: result.machine_public_key,
    encryptionKey: result.encryption_key,
    keysetSha256: result.keyset_sha256,
    models: result.models,
    keyFile,
    evidenceFile: null,
  };
}

export interface ClientJob {
  job: Job;
  sealed: SealedRequest;
}

/** The client: seals a chat request to the machine's keyset and creates the job paying `maxAmount`. */
export async function createJob(
  stack: Stack,
  client: string,
  machine: Machine,
  options: {
    maxAmount: bigint;
    prompt: string;
    model?: ModelEntry;
    maxTokens?: number;
    acceptWithinS?: number;
    /** Commit to these bytes instead of the sealed envelope (a bad envelope). */
    inputBytes?: Uint8Array;
  },
): Promise<ClientJob | { rejected: string }> {
  const model = options.model ?? stack.model;
  const request: ChatRequest = {
    model: model.name,
    messages: [{ role: "user", content: options.prompt }],
    max_tokens: options.maxTokens ?? 48,
    temperature: 0,
  };
  const sealed = await sealRequest(
    {
      escrow: stack.escrow,
      client,
      machine_id: machine.machineId,
      model: model.weights_sha256,
      keyset_sha256: machine.keysetSha256,
    },
    machine.encryptionKey,
    request,
  );
  const inputHash =
    options.inputBytes === undefined
      ? sealed.inputHash
      : (await import("@gpu-market/protocol")).sha256Hex(options.inputBytes);
  const outcome = await stack.t.chain.call(
    client,
    stack.escrow,
    "create_job",
    {
      machine_id: machine.machineId,
      model_hash: model.weights_sha256,
      input_hash: inputHash,
      keyset_sha256: machine.keysetSha256,
      accept_within_ns: (BigInt(options.acceptWithinS ?? 120) * 1_000_000_000n).toString(),
      deliver_within_ns: (300n * 1_000_000_000n).toString(),
      // Every test machine is registered at PRICE: the escrow requires the price the client accepts.
      max_price_per_unit: PRICE.toString(),
    },
    { deposit: options.maxAmount, gas: 200n * TGAS },
  );
  const createdEvent = outcome.events.find((e) => e.event === "job_created");
  if (createdEvent === undefined) {
    const rejected = outcome.events.find((e) => e.event === "job_rejected");
    return { rejected: String((rejected?.data[0] as { reason?: unknown } | undefined)?.reason) };
  }
  return { job: createdEvent.data[0] as Job, sealed };
}

export async function escrowBalance(stack: Stack, account: string): Promise<bigint> {
  return BigInt(
    await stack.t.chain.view<string>(stack.escrow, "balance_of", {
      account_id: account,
      asset: "NEAR",
    }),
  );
}

export async function viewJob(stack: Stack, id: string): Promise<Job> {
  return stack.t.chain.view<Job>(stack.escrow, "job", { job_id: id });
}

/** Polls the job on-chain until its status is one of `statuses`. */
export async function waitForStatus(
  stack: Stack,
  id: string,
  statuses: string[],
  timeoutMs = 60_000,
): Promise<Job> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const job = await viewJob(stack, id);
    if (statuses.includes(job.status)) return job;
    if (Date.now() > deadline)
      throw new Error(`job ${id} is ${job.status}, not ${statuses.join("|")}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
