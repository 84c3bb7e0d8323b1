/**
 * market.infer() end to end with every real part: localnet running the built registry, escrow and
 * governance (dev mode enabled by a governance vote), a provider with a none-dev machine whose
 * attested keyset lists the tiny GGUF model, the real provider agent following the chain and
 * serving its endpoint, and the model server (node-llama-cpp on CPU) as its backend. Then the same
 * through `gpu-market job run`. Needs build/contracts (npm test builds them first).
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Job } from "@gpu-market/common/src/escrow-types.ts";
import {
  encryptionPublicKey,
  generateMachineSecrets,
  keysetSha256,
  signingPublicKey,
  verifyReceipt,
} from "@gpu-market/protocol";
import { baseEncode, KeyPair, type KeyPairString } from "near-api-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLogger } from "../../agent/src/log.ts";
import { type RunningProvider, startProvider } from "../../agent/src/runtime.ts";
import { type Localnet, startLocalnet } from "../../localnet/src/index.ts";
import { createRuntime } from "../../localnet/src/runtime/index.ts";
import { runFunctionCall } from "../../localnet/src/vm/index.ts";
import {
  type ModelServer,
  startModelServer,
  writeTinyModel,
} from "../../model-server/src/index.ts";
import { deployMarket } from "../../scripts/src/commands/deploy.ts";
import { type Credentials, saveAccountKey } from "../../scripts/src/credentials.ts";
import { freePort } from "../../scripts/src/dev/free-port.ts";
import { memoryIo } from "../../scripts/src/io.ts";
import { machineKeyProof } from "../../scripts/src/machine-key.ts";
import { Chain } from "../../scripts/src/near.ts";
import { runCli } from "../../scripts/test/support/run-cli.ts";
import { encodeEvidence } from "../../verifier/src/evidence.ts";
import { ClientError } from "../src/errors.ts";
import { GpuMarket } from "../src/market.ts";
import type { ProgressStep } from "../src/types.ts";

const NEAR = 10n ** 24n;
const PRICE = 10n ** 15n;
const MODEL = "tiny-llama";

let dir: string;
let net: Localnet;
let chain: Chain;
let creds: Credentials;
let master: string;
let deploymentPath: string;
let registry: string;
let escrow: string;
let provider: string;
let client: string;
let clientKey: KeyPair;
let modelServer: ModelServer;
let agent: RunningProvider;

async function account(name: string, near: bigint): Promise<{ id: string; key: KeyPair }> {
  const id = `${name}.${master}`;
  const key = KeyPair.fromRandom("ed25519");
  await chain.account(master).createAccount({
    newAccountId: id,
    publicKey: key.getPublicKey(),
    nearToTransfer: near * NEAR,
  });
  saveAccountKey(creds, "localnet", id, key);
  return { id, key };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "client-e2e-"));
  net = await startLocalnet({ runtime: createRuntime(runFunctionCall), blockIntervalMs: 200 });
  creds = { dir: join(dir, "credentials"), env: {} };
  master = net.accounts.validator.accountId;
  saveAccountKey(
    creds,
    "localnet",
    master,
    KeyPair.fromString(net.accounts.validator.secretKey as KeyPairString),
  );
  chain = new Chain({ id: "localnet", rpcUrl: net.rpcUrl }, creds);
  deploymentPath = join(dir, "deployment.json");
  const deployed = await deployMarket(
    { chain, creds, master, build: false, devMode: true, keepKeys: false, deploymentPath },
    memoryIo(),
  );
  registry = deployed.registry.account_id;
  escrow = deployed.escrow.account_id;

  // The model and its backend.
  const model = await writeTinyModel(join(dir, "tiny-llama.gguf"));
  modelServer = await startModelServer({ modelPath: model.path, name: MODEL, threads: 2 });

  // The provider and its none-dev machine, with the keyset the agent will serve.
  const p = await account("provider", 20n);
  provider = p.id;
  const port = await freePort();
  await chain.call(
    provider,
    registry,
    "register_provider",
    { name: "Provider", endpoint: `http://127.0.0.1:${port}/v1`, region: "eu-west-1" },
    { deposit: 2n * NEAR },
  );
  const secrets = generateMachineSecrets();
  const keyset = {
    account: provider,
    registry,
    signing_key: signingPublicKey(secrets.signing),
    encryption_key: encryptionPublicKey(secrets.encryption),
    models: [{ name: MODEL, weights_sha256: model.sha256 }],
  };
  const challenge = await chain.call<{ nonce: string }>(
    provider,
    registry,
    "request_challenge",
    { machine_public_key: keyset.signing_key },
    { deposit: NEAR / 100n },
  );
  const empty = {
    mrtd: "",
    rtmr0: "",
    rtmr1: "",
    rtmr2: "",
    rtmr3: "",
    gpu_driver: "",
    gpu_vbios: "",
  };
  const evidence = encodeEvidence({
    devReport: JSON.stringify({
      report_data: `${keysetSha256(keyset)}${challenge.value.nonce}`,
      ...empty,
    }),
  });
  await chain.call(
    provider,
    registry,
    "add_machine",
    {
      machine_public_key: keyset.signing_key,
      encryption_key: keyset.encryption_key,
      models: keyset.models,
      tee_type: "none-dev",
      hardware: {
        gpus: [
          { model: "CPU", count: 1, vram_mib: 1024, driver: "none", vbios: "none", cc_mode: "off" },
        ],
        cpu_cores: 2,
        ram_mib: 4096,
      },
      price_per_unit: PRICE.toString(),
      evidence: Buffer.from(evidence).toString("base64"),
      machine_key_signature: machineKeyProof(
        {
          publicKey: keyset.signing_key,
          keyPair: KeyPair.fromString(`ed25519:${baseEncode(secrets.signing)}` as KeyPairString),
        },
        { registry, account: provider, nonce: challenge.value.nonce },
      ),
    },
    { deposit: NEAR / 10n },
  );
  const keyFile = join(dir, "machine-key.json");
  writeFileSync(
    keyFile,
    JSON.stringify({
      public_key: keyset.signing_key,
      private_key: `ed25519:${baseEncode(secrets.signing)}`,
      encryption_key: keyset.encryption_key,
      encryption_private_key: `x25519:${Buffer.from(secrets.encryption).toString("hex")}`,
    }),
    { mode: 0o600 },
  );
  chmodSync(keyFile, 0o600);
  const evidenceFile = join(dir, "evidence.bin");
  writeFileSync(evidenceFile, evidence);

  agent = await startProvider(
    {
      network: "localnet",
      rpcUrl: net.rpcUrl,
      registry,
      escrow,
      account: provider,
      machineKeyFiles: [keyFile],
      evidenceFiles: [evidenceFile],
      models: [{ name: MODEL, path: model.path }],
      backendUrl: modelServer.url,
      listen: { host: "127.0.0.1", port },
      dataDir: join(dir, "agent"),
      blockSource: net.rpcUrl,
      fromHeight: null,
      maxQueue: 4,
      parallel: 1,
      retainMs: null,
      json: false,
    },
    { log: silentLogger, env: { NEAR_ACCOUNT_ID: provider, NEAR_PRIVATE_KEY: p.key.toString() } },
  );

  const c = await account("client", 20n);
  client = c.id;
  clientKey = c.key;
});

afterAll(async () => {
  await agent?.stop(1000);
  await modelServer?.close();
  await net?.stop();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

function market(): GpuMarket {
  return new GpuMarket({
    network: { rpcUrl: net.rpcUrl },
    registry,
    escrow,
    account: { accountId: client, signer: clientKey },
    pollIntervalMs: 250,
  });
}

describe("confidential inference on localnet with the real agent and model server", () => {
  it("refuses the dev machine with verifyAttestation unless allowDevMachines, before paying", async () => {
    const error = await market()
      .infer({
        mode: "job",
        model: MODEL,
        machine: "0",
        messages: [{ role: "user", content: "Hi" }],
        maxAmount: (NEAR / 10n).toString(),
        maxTokens: 8,
        verifyAttestation: true,
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ClientError);
    expect((error as ClientError).code).toBe("dev_machine");
    expect(await chain.view<Job[]>(escrow, "jobs", {})).toEqual([]);
  });

  it("market.infer(): picks the machine, checks its dev attestation, pays, streams, verifies and confirms", async () => {
    const steps: ProgressStep[] = [];
    const tokens: string[] = [];
    const m = market();
    const result = await m.infer({
      mode: "job",
      model: MODEL,
      messages: [{ role: "user", content: "Say hello." }],
      maxAmount: (NEAR / 10n).toString(),
      maxTokens: 12,
      verifyAttestation: true,
      allowDevMachines: true,
      onProgress: (step) => steps.push(step),
      onToken: (text) => tokens.push(text),
    });
    expect(result.machineId).toBe("0");
    expect(result.model).toBe(MODEL);
    expect(result.attestation).toMatchObject({ teeType: "none-dev", tcbStatus: "dev" });
    expect(tokens.join("")).toBe(result.text);
    expect(result.usage.completionTokens).toBeGreaterThan(0);
    expect(result.usage.completionTokens).toBeLessThanOrEqual(12);
    const usage = BigInt(result.usage.promptTokens + result.usage.completionTokens);
    expect(result.amountDue).toBe((usage * PRICE).toString());
    expect(BigInt(result.refunded)).toBe(NEAR / 10n - usage * PRICE);

    const job = await chain.view<Job>(escrow, "job", { job_id: result.jobId });
    expect(job).toMatchObject({
      status: "settled",
      settled_by: "client",
      client,
      provider,
      model_name: MODEL,
      amount_due: result.amountDue,
      client_refund: result.refunded,
    });
    expect(verifyReceipt(result.receipt, result.signature, job.machine_public_key)).toBe(true);
    expect(await m.balance()).toBe(BigInt(result.refunded));
    const withdrawn = await m.withdraw();
    expect(withdrawn.withdrawn).toBe(result.refunded);
    expect(steps.map((s) => s.step)).toEqual(
      expect.arrayContaining([
        "attestation_verified",
        "job_created",
        "request_uploaded",
        "confirming",
      ]),
    );
  });

  it("gpu-market job run prints one JSON document with the answer, usage and tx hashes", async () => {
    const run = await runCli(
      [
        "job",
        "run",
        "--network",
        "localnet",
        "--rpc-url",
        net.rpcUrl,
        "--account",
        client,
        "--model",
        MODEL,
        "--prompt",
        "Count to three.",
        "--max-amount",
        "0.1",
        "--max-tokens",
        "8",
        "--json",
      ],
      { NEAR_CREDENTIALS_DIR: creds.dir, GPU_MARKET_DEPLOYMENT: deploymentPath },
    );
    expect(run.stderr).toMatch(/job \d+ created/);
    expect(run.code).toBe(0);
    const out = JSON.parse(run.stdout) as Record<string, unknown>;
    expect(out).toMatchObject({ machine_id: "0", model: MODEL, asset: "NEAR" });
    expect(typeof out.answer).toBe("string");
    const job = await chain.view<Job>(escrow, "job", { job_id: out.job_id as string });
    expect(job.status).toBe("settled");
    expect(job.amount_due).toBe(out.amount_due);
  });
});
