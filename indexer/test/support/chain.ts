/**
 * A localnet in this process with the real runtime and the built contracts, driven with
 * near-api-js 7: accounts, deploys, calls and the registry's flows (provider, machine with
 * evidence answering a challenge, verifiers, allowlist, verdicts).
 */
import { createHash, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Account, actions, JsonRpcProvider, KeyPair, KeyPairSigner } from "near-api-js";
import { machineKeyProofBytes } from "../../../contracts/common/src/inference-messages.ts";
import { type Localnet, startLocalnet } from "../../../localnet/src/index.ts";
import { createRuntime } from "../../../localnet/src/runtime/index.ts";
import { runFunctionCall } from "../../../localnet/src/vm/index.ts";

export const ONE_NEAR = 10n ** 24n;
export const MILLI_NEAR = 10n ** 21n;
const GAS = 100n * 10n ** 12n;
/** The most a transaction may attach (create_job's cross-contract call needs it). */
export const MAX_GAS = 300n * 10n ** 12n;

const BUILD = fileURLToPath(new URL("../../../build/contracts/", import.meta.url));

export function contractWasm(name: string): Uint8Array {
  return new Uint8Array(readFileSync(`${BUILD}${name}.wasm`));
}

export interface CallResult {
  ok: boolean;
  value: unknown;
  failure: string | null;
  txHash: string;
  blockHash: string;
}

export class Chain {
  readonly net: Localnet;
  readonly provider: JsonRpcProvider;
  readonly root: Account;
  #accounts = new Map<string, Account>();

  private constructor(net: Localnet) {
    this.net = net;
    this.provider = new JsonRpcProvider({ url: net.rpcUrl });
    this.root = new Account(
      net.accounts.validator.accountId,
      this.provider,
      KeyPairSigner.fromSecretKey(
        net.accounts.validator.secretKey as Parameters<typeof KeyPairSigner.fromSecretKey>[0],
      ),
    );
    this.#accounts.set(this.root.accountId, this.root);
  }

  static async start(): Promise<Chain> {
    const net = await startLocalnet({
      runtime: createRuntime(runFunctionCall),
      blockIntervalMs: 0,
      txTimeoutMs: 20_000,
    });
    return new Chain(net);
  }

  get rpcUrl(): string {
    return this.net.rpcUrl;
  }

  /** The base URL of localnet's neardata paths (same server as RPC). */
  get streamUrl(): string {
    return this.net.rpcUrl.replace(/\/+$/, "");
  }

  async stop(): Promise<void> {
    await this.net.stop();
  }

  account(accountId: string): Account {
    const account = this.#accounts.get(accountId);
    if (account === undefined) throw new Error(`no key for ${accountId}`);
    return account;
  }

  /** A new sub-account of the root, funded with `near` NEAR. */
  async createAccount(prefix: string, near = 50n): Promise<string> {
    const key = KeyPair.fromRandom("ed25519");
    await this.root.createSubAccount({
      accountOrPrefix: prefix,
      publicKey: key.getPublicKey(),
      nearToTransfer: near * ONE_NEAR,
    });
    const accountId = `${prefix}.${this.root.accountId}`;
    this.#accounts.set(accountId, new Account(accountId, this.provider, new KeyPairSigner(key)));
    return accountId;
  }

  async deploy(accountId: string, wasm: Uint8Array): Promise<void> {
    await this.account(accountId).signAndSendTransaction({
      receiverId: accountId,
      actions: [actions.deployContract(wasm)],
      waitUntil: "FINAL",
    });
  }

  /** A function call; failures are returned, not thrown. */
  async call(
    signer: string,
    contract: string,
    method: string,
    args: Record<string, unknown>,
    deposit = 0n,
    gas = GAS,
  ): Promise<CallResult> {
    const result = await this.account(signer).signAndSendTransaction({
      receiverId: contract,
      actions: [actions.functionCall(method, args, gas, deposit)],
      waitUntil: "FINAL",
      throwOnFailure: false,
    });
    const status = result.status as { SuccessValue?: string; Failure?: unknown };
    const raw = status.SuccessValue;
    return {
      ok: raw !== undefined,
      value: raw ? JSON.parse(Buffer.from(raw, "base64").toString("utf8")) : null,
      failure: raw === undefined ? JSON.stringify(status.Failure ?? status) : null,
      txHash: result.transaction_outcome.id,
      blockHash: result.transaction_outcome.block_hash,
    };
  }

  async callOk(
    signer: string,
    contract: string,
    method: string,
    args: Record<string, unknown>,
    deposit = 0n,
    gas = GAS,
  ): Promise<unknown> {
    const result = await this.call(signer, contract, method, args, deposit, gas);
    if (!result.ok) throw new Error(`${method} failed: ${result.failure}`);
    return result.value;
  }

  async view<T>(contract: string, method: string, args: Record<string, unknown> = {}): Promise<T> {
    return (await this.provider.callFunction({ contractId: contract, method, args })) as T;
  }

  async finalHeight(): Promise<number> {
    const block = await this.provider.viewBlock({ finality: "final" });
    return block.header.height;
  }
}

// Registry flows

export const HARDWARE = {
  gpus: [
    {
      model: "NVIDIA H100 80GB HBM3",
      count: 1,
      vram_mib: 81559,
      driver: "580.159.04",
      vbios: "96.00.CF.00.01",
      cc_mode: "on",
    },
  ],
  cpu_cores: 16,
  ram_mib: 131072,
};

export const MEASUREMENTS = {
  mrtd: "a1".repeat(48),
  rtmr0: "b2".repeat(48),
  rtmr1: "c3".repeat(48),
  rtmr2: "d4".repeat(48),
  rtmr3: "",
  gpu_driver: "580.159.04",
  gpu_vbios: "96.00.CF.00.01",
};

/** sha256 hex of the canonical measurement JSON (sorted keys, no whitespace), as the registry. */
export function measurementIdOf(m: typeof MEASUREMENTS): string {
  const sorted = Object.fromEntries(Object.entries(m).sort(([a], [b]) => a.localeCompare(b)));
  return createHash("sha256").update(JSON.stringify(sorted)).digest("hex");
}

/** The model the test machines serve unless told otherwise. */
export const MODELS = [
  {
    name: "llama-3.1-8b-instruct",
    weights_sha256: createHash("sha256").update("llama-3.1-8b-instruct weights").digest("hex"),
  },
];

export function newEvidence(size = 256): { base64: string; hash: string } {
  const bytes = Buffer.alloc(size);
  for (let i = 0; i < size; i += 32) {
    createHash("sha256").update(`${Math.random()}-${i}`).digest().copy(bytes, i);
  }
  return {
    base64: bytes.toString("base64"),
    hash: createHash("sha256").update(bytes).digest("hex"),
  };
}

export class RegistryFlows {
  readonly chain: Chain;
  readonly registry: string;
  readonly owner: string;

  constructor(chain: Chain, registry: string, owner: string) {
    this.chain = chain;
    this.registry = registry;
    this.owner = owner;
  }

  /** Creates the registry account, deploys and initialises it (owner and treasury: `owner`). */
  static async deploy(chain: Chain, prefix = "registry"): Promise<RegistryFlows> {
    const registry = await chain.createAccount(prefix, 100n);
    await chain.deploy(registry, contractWasm("registry"));
    const owner = chain.root.accountId;
    await chain.callOk(registry, registry, "init", { owner, treasury: owner, params: {} });
    return new RegistryFlows(chain, registry, owner);
  }

  registerProvider(provider: string, region = "eu-west-1"): Promise<unknown> {
    return this.chain.callOk(
      provider,
      this.registry,
      "register_provider",
      { name: `Provider ${provider}`, endpoint: "https://gpu.example.com/v1", region },
      3n * ONE_NEAR,
    );
  }

  /**
   * Challenge then add_machine with a fresh keyset (signing key, random X25519 key, `models`) and
   * fresh evidence; returns the machine id, its keys and its keyset hash.
   */
  async addMachine(
    provider: string,
    options: {
      teeType?: string;
      price?: string;
      hardware?: typeof HARDWARE;
      models?: { name: string; weights_sha256: string }[];
    } = {},
  ): Promise<{
    id: string;
    key: string;
    keyPair: KeyPair;
    encryptionKey: string;
    keysetSha256: string;
    evidenceHash: string;
  }> {
    const keyPair = KeyPair.fromRandom("ed25519");
    const key = keyPair.getPublicKey().toString();
    const encryptionKey = `x25519:${randomBytes(32).toString("hex")}`;
    const { nonce } = (await this.chain.callOk(
      provider,
      this.registry,
      "request_challenge",
      { machine_public_key: key },
      10n * MILLI_NEAR,
    )) as { nonce: string };
    const evidence = newEvidence();
    const machine = (await this.chain.callOk(
      provider,
      this.registry,
      "add_machine",
      {
        machine_public_key: key,
        encryption_key: encryptionKey,
        models: options.models ?? MODELS,
        tee_type: options.teeType ?? "tdx",
        hardware: options.hardware ?? HARDWARE,
        price_per_unit: options.price ?? "1000000000000000000",
        evidence: evidence.base64,
        machine_key_signature: this.keyProof(keyPair, provider, nonce),
      },
      100n * MILLI_NEAR,
    )) as { id: string; keyset_sha256: string };
    return {
      id: machine.id,
      key,
      keyPair,
      encryptionKey,
      keysetSha256: machine.keyset_sha256,
      evidenceHash: evidence.hash,
    };
  }

  /**
   * submit_evidence for a new keyset (a fresh signing key answering its own challenge, a fresh
   * X25519 key, `models`); it becomes current when a verdict verifies the evidence.
   */
  async rotateKeyset(
    provider: string,
    machineId: string,
    models = MODELS,
  ): Promise<{ key: string; encryptionKey: string; evidenceHash: string }> {
    const keyPair = KeyPair.fromRandom("ed25519");
    const key = keyPair.getPublicKey().toString();
    const encryptionKey = `x25519:${randomBytes(32).toString("hex")}`;
    const { nonce } = (await this.chain.callOk(
      provider,
      this.registry,
      "request_challenge",
      { machine_public_key: key },
      10n * MILLI_NEAR,
    )) as { nonce: string };
    const evidence = newEvidence();
    await this.chain.callOk(
      provider,
      this.registry,
      "submit_evidence",
      {
        machine_id: machineId,
        evidence: evidence.base64,
        machine_public_key: key,
        encryption_key: encryptionKey,
        models,
        machine_key_signature: this.keyProof(keyPair, provider, nonce),
      },
      100n * MILLI_NEAR,
    );
    return { key, encryptionKey, evidenceHash: evidence.hash };
  }

  /** The machine key's proof of possession the registry requires for a new key. */
  keyProof(keyPair: KeyPair, provider: string, nonce: string): string {
    const document = machineKeyProofBytes({
      registry: this.registry,
      account: provider,
      signing_key: keyPair.getPublicKey().toString(),
      nonce,
    });
    const digest = createHash("sha256").update(document).digest();
    return Buffer.from(keyPair.sign(digest).signature).toString("hex");
  }

  addVerifier(verifier: string): Promise<unknown> {
    return this.chain.callOk(this.owner, this.registry, "add_verifier", { account_id: verifier });
  }

  allowMeasurement(measurements = MEASUREMENTS, label = "H100 CC image v1"): Promise<unknown> {
    return this.chain.callOk(this.owner, this.registry, "allow_measurement", {
      measurement_id: measurementIdOf(measurements),
      label,
    });
  }

  postVerdict(
    verifier: string,
    machineId: string,
    evidenceHash: string,
    approve: boolean,
  ): Promise<unknown> {
    return this.chain.callOk(
      verifier,
      this.registry,
      "post_verdict",
      {
        machine_id: machineId,
        evidence_hash: evidenceHash,
        approve,
        measurements: approve ? MEASUREMENTS : null,
        tcb_status: approve ? "UpToDate" : "OutOfDate",
        reason: approve ? "" : "quote does not verify",
      },
      30n * MILLI_NEAR,
    );
  }
}
