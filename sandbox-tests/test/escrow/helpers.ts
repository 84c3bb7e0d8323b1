/**
 * Shared setup of the escrow suites: the real registry (dev mode, one none-dev machine whose key
 * the test holds), the usdc test token and the escrow, plus job and signature helpers.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { KeyPair, type NearAccount, type TransactionResult, Worker } from "near-workspaces";
import { expect } from "vitest";
import { contractWasm } from "../../src/contracts.ts";
import {
  addMachineArgs,
  type Call,
  callOk,
  callRaw,
  deployRegistry,
  MACHINE_DEPOSIT,
  type ModelEntry,
  newEvidence,
  newKeyset,
  ONE_NEAR,
  proofFor,
  registerProvider,
  requestChallenge,
  SECOND_NS,
  TGAS,
} from "../registry/helpers.ts";

export {
  advancePast,
  balanceOf,
  callOk,
  callRaw,
  eventsOf,
  expectRejected,
  nowNs,
  ONE_NEAR,
  onlyEvent,
  SECOND_NS,
  stateOf,
  TGAS,
} from "../registry/helpers.ts";

export const MAX_GAS = 300n * TGAS;
export const USDC = 1_000_000n;
/** Price per unit of the test machine, in yoctoNEAR or token base units alike. */
export const PRICE = 1_000n;
export const STORAGE_DEPOSIT = 5n * ONE_NEAR;
export const BYTE_COST = 10n ** 19n;
export const JOB_STORAGE_FEE = 6000n * BYTE_COST;
export const TOKEN_STORAGE_FEE = 125n * BYTE_COST;

export const TEST_PARAMS = {
  fee_bps: 250,
  dispute_window_ns: (20n * SECOND_NS).toString(),
  arbitration_window_ns: (20n * SECOND_NS).toString(),
  min_accept_ns: SECOND_NS.toString(),
  max_accept_ns: (3600n * SECOND_NS).toString(),
  min_deliver_ns: SECOND_NS.toString(),
  max_deliver_ns: (3600n * SECOND_NS).toString(),
  max_page_size: 50,
  min_session_ns: (60n * SECOND_NS).toString(),
  max_session_ns: (7n * 86_400n * SECOND_NS).toString(),
};

export interface TestMachine {
  id: string;
  keyPair: KeyPair;
  publicKey: string;
  encryptionKey: string;
  models: ModelEntry[];
  keysetSha256: string;
  evidenceHash: string;
}

export interface World {
  worker: Worker;
  root: NearAccount;
  gov: NearAccount;
  treasury: NearAccount;
  arbiter: NearAccount;
  provider: NearAccount;
  alice: NearAccount;
  bob: NearAccount;
  registry: NearAccount;
  usdc: NearAccount;
  escrow: NearAccount;
  machine: TestMachine;
}

/**
 * A none-dev machine (eligible in dev mode; or of `teeType`, eligible once verified) with a key
 * pair the test can sign with, and a keyset (random encryption key, the fixture models) whose
 * sha256 jobs name.
 */
export async function addDevMachine(
  registry: NearAccount,
  provider: NearAccount,
  price = PRICE,
  teeType = "none-dev",
): Promise<TestMachine> {
  const keyPair = KeyPair.fromRandom("ed25519");
  const publicKey = keyPair.getPublicKey();
  const keyset = newKeyset({
    text: publicKey.toString(),
    bytes: Uint8Array.from(publicKey.data),
    keyPair,
  });
  const { nonce } = await requestChallenge(registry, provider, keyset.key);
  const evidence = newEvidence();
  const result = await callOk(provider, registry, {
    method: "add_machine",
    args: {
      ...addMachineArgs(keyset, evidence, teeType, proofFor(registry, provider, keyset.key, nonce)),
      price_per_unit: price.toString(),
    },
    deposit: MACHINE_DEPOSIT,
  });
  const machine = result.parseResult<{ id: string; keyset_sha256: string }>();
  return {
    id: machine.id,
    keyPair,
    publicKey: keyset.key.text,
    encryptionKey: keyset.encryptionKey,
    models: keyset.models,
    keysetSha256: machine.keyset_sha256,
    evidenceHash: evidence.hash,
  };
}

export async function storageDeposit(
  contract: NearAccount,
  account: NearAccount,
  deposit: bigint,
): Promise<void> {
  await callOk(account, contract, { method: "storage_deposit", args: {}, deposit });
}

export async function setupWorld(params: Record<string, unknown> = TEST_PARAMS): Promise<World> {
  const worker = await Worker.init();
  const root = worker.rootAccount;
  const make = (name: string, near = 100n) =>
    root.createSubAccount(name, { initialBalance: near * ONE_NEAR });
  const gov = await make("gov");
  const treasury = await make("treasury");
  const arbiter = await make("arbiter");
  const provider = await make("provider");
  const alice = await make("alice");
  const bob = await make("bob");
  const registry = await deployRegistry(root, "registry", gov, treasury);
  await callOk(gov, registry, { method: "set_dev_mode", args: { enabled: true } });
  await registerProvider(registry, provider);
  const machine = await addDevMachine(registry, provider);

  const usdc = await make("usdc", 30n);
  await usdc.deploy(readFileSync(contractWasm("usdc")));
  await callOk(usdc, usdc, {
    method: "init",
    args: { owner_id: usdc.accountId, total_supply: (1_000_000n * USDC).toString() },
  });

  const escrow = await make("escrow", 30n);
  await escrow.deploy(readFileSync(contractWasm("escrow")));
  await callOk(escrow, escrow, {
    method: "init",
    args: {
      owner: gov.accountId,
      treasury: treasury.accountId,
      arbiter: arbiter.accountId,
      registry: registry.accountId,
      params,
    },
  });
  await callOk(gov, escrow, { method: "allow_token", args: { token: usdc.accountId } });
  // withdraw_bond asks this escrow whether the provider still has disputable jobs.
  await callOk(gov, registry, { method: "set_escrow", args: { escrow: escrow.accountId } });

  // The treasury is left unregistered with the token: its token withdrawals fail until it registers.
  for (const account of [escrow, provider, alice, bob]) {
    await storageDeposit(usdc, account, TOKEN_STORAGE_FEE);
  }
  for (const account of [alice, bob]) {
    await callOk(usdc, usdc, {
      method: "mint",
      args: { account_id: account.accountId, amount: (10_000n * USDC).toString() },
    });
    await storageDeposit(escrow, account, STORAGE_DEPOSIT);
  }
  return {
    worker,
    root,
    gov,
    treasury,
    arbiter,
    provider,
    alice,
    bob,
    registry,
    usdc,
    escrow,
    machine,
  };
}

// Jobs

export const INPUT_HASH = "bb".repeat(32);
export const RESPONSE_HASH = "cc".repeat(32);
export const U64_MAX = (1n << 64n) - 1n;

/**
 * The fields of a job on `machine`: its first attested model, encrypted to its current keyset, at
 * most the test machines' price per unit.
 */
export function jobFields(machine: TestMachine, overrides: Record<string, unknown> = {}) {
  return {
    machine_id: machine.id,
    model_hash: modelOf(machine).weights_sha256,
    input_hash: INPUT_HASH,
    keyset_sha256: machine.keysetSha256,
    accept_within_ns: (60n * SECOND_NS).toString(),
    deliver_within_ns: (60n * SECOND_NS).toString(),
    max_price_per_unit: PRICE.toString(),
    ...overrides,
  };
}

export function modelOf(machine: TestMachine): ModelEntry {
  const model = machine.models[0];
  if (model === undefined) throw new Error(`machine ${machine.id} serves no model`);
  return model;
}

export interface JobView {
  id: string;
  client: string;
  payer: string;
  machine_id: string;
  provider: string;
  machine_public_key: string;
  price_per_unit: string;
  fee_bps: number;
  keyset_sha256: string | null;
  encryption_key: string | null;
  asset: string;
  max_amount: string;
  model_hash: string;
  input_hash: string;
  status: string;
  accept_deadline: string;
  deliver_deadline: string | null;
  dispute_deadline: string | null;
  arbitration_deadline: string | null;
  result_hash: string | null;
  amount_due: string | null;
  usage: string | null;
  model_name: string | null;
  prompt_tokens: string | null;
  completion_tokens: string | null;
  chunks: string | null;
  signature: string | null;
  provider_payout: string | null;
  fee: string | null;
  client_refund: string | null;
  refund_reason: string | null;
  failure_code: string | null;
  settled_by: string | null;
  slash_requested: boolean;
}

/** The job a successful create_job (or approve_job, or ft_transfer_call) created. */
export function createdJob(result: TransactionResult): JobView {
  expect(result.failed, result.receiptFailureMessages.join("\n")).toBe(false);
  const created = result.logs
    .filter((line) => line.startsWith("EVENT_JSON:"))
    .map((line) => JSON.parse(line.slice("EVENT_JSON:".length)))
    .find((event) => event.event === "job_created");
  expect(created, `no job_created in ${result.logs.join("\n")}`).toBeDefined();
  return created.data[0] as JobView;
}

export async function createNearJob(
  world: World,
  client: NearAccount,
  amount: bigint,
  overrides: Record<string, unknown> = {},
): Promise<JobView> {
  const result = await callRaw(client, world.escrow, {
    method: "create_job",
    args: jobFields(world.machine, overrides),
    deposit: amount,
    gas: MAX_GAS,
  });
  return createdJob(result);
}

export async function createTokenJob(
  world: World,
  client: NearAccount,
  amount: bigint,
  overrides: Record<string, unknown> = {},
): Promise<TransactionResult> {
  return ftTransferCall(world, client, amount, {
    action: "create_job",
    job: jobFields(world.machine, overrides),
  });
}

export function ftTransferCall(
  world: World,
  sender: NearAccount,
  amount: bigint,
  msg: unknown,
): Promise<TransactionResult> {
  return callRaw(sender, world.usdc, {
    method: "ft_transfer_call",
    args: {
      receiver_id: world.escrow.accountId,
      amount: amount.toString(),
      msg: typeof msg === "string" ? msg : JSON.stringify(msg),
    },
    deposit: 1n,
    gas: MAX_GAS,
  });
}

export async function ftBalance(world: World, account: NearAccount | string): Promise<bigint> {
  const id = typeof account === "string" ? account : account.accountId;
  return BigInt(await world.usdc.view("ft_balance_of", { account_id: id }));
}

export async function jobOf(world: World, id: string): Promise<JobView> {
  return (await world.escrow.view("job", { job_id: id })) as JobView;
}

export async function escrowBalance(
  world: World,
  account: NearAccount | string,
  asset = "NEAR",
): Promise<bigint> {
  const id = typeof account === "string" ? account : account.accountId;
  return BigInt(await world.escrow.view("balance_of", { account_id: id, asset }));
}

/** deliver_job's receipt: what the machine reports and signs, besides the escrow and the job id. */
export interface Receipt {
  model: string;
  weights_sha256: string;
  request_sha256: string;
  response_sha256: string;
  prompt_tokens: string;
  completion_tokens: string;
  chunks: string;
}

/**
 * sha256 of a signed document as the README specifies it, built here independently of the
 * contract: JSON with keys sorted, no whitespace, every value a string.
 */
function documentDigest(fields: Record<string, string>): Buffer {
  const sorted = Object.keys(fields)
    .sort()
    .map((key) => `${JSON.stringify(key)}:${JSON.stringify(fields[key])}`);
  return createHash("sha256")
    .update(`{${sorted.join(",")}}`)
    .digest();
}

export function receiptDigest(escrow: string, jobId: string, receipt: Receipt): Buffer {
  return documentDigest({
    ...receipt,
    version: "gpumarket/v1/receipt",
    escrow,
    job_id: jobId,
  });
}

export function failureDigest(escrow: string, jobId: string, code: string): Buffer {
  return documentDigest({ version: "gpumarket/v1/failure", escrow, job_id: jobId, code });
}

export function sign(keyPair: KeyPair, digest: Buffer): string {
  return Buffer.from(keyPair.sign(digest).signature).toString("hex");
}

/**
 * The receipt of a delivery of `usage` tokens (half prompt, half completion: each fits a u64 for
 * any usage up to 2 x u64 max) for a job on the world's machine created with jobFields.
 */
export function receiptFor(world: World, usage: bigint, overrides: Partial<Receipt> = {}): Receipt {
  const prompt = usage / 2n;
  return {
    model: modelOf(world.machine).name,
    weights_sha256: modelOf(world.machine).weights_sha256,
    request_sha256: INPUT_HASH,
    response_sha256: RESPONSE_HASH,
    prompt_tokens: prompt.toString(),
    completion_tokens: (usage - prompt).toString(),
    chunks: "3",
    ...overrides,
  };
}

/** deliver_job's arguments with the world machine's signature over the receipt. */
export function deliverArgs(
  world: World,
  jobId: string,
  usage: bigint,
  overrides: Partial<Receipt> = {},
) {
  const receipt = receiptFor(world, usage, overrides);
  return {
    job_id: jobId,
    receipt,
    signature: sign(world.machine.keyPair, receiptDigest(world.escrow.accountId, jobId, receipt)),
  };
}

/** fail_job's arguments with the world machine's signature over the failure notice. */
export function failArgs(world: World, jobId: string, code = "backend_unavailable") {
  return {
    job_id: jobId,
    code,
    signature: sign(world.machine.keyPair, failureDigest(world.escrow.accountId, jobId, code)),
  };
}

export async function acceptAndDeliver(
  world: World,
  jobId: string,
  usage: bigint,
): Promise<JobView> {
  await callOk(world.provider, world.escrow, { method: "accept_job", args: { job_id: jobId } });
  const result = await callOk(world.provider, world.escrow, {
    method: "deliver_job",
    args: deliverArgs(world, jobId, usage),
  });
  return result.parseResult<JobView>();
}

export function withdrawCall(asset: string, amount?: bigint): Call {
  return {
    method: "withdraw",
    args: amount === undefined ? { asset } : { asset, amount: amount.toString() },
    deposit: 1n,
    gas: MAX_GAS,
  };
}

export interface Totals {
  asset: string;
  escrowed: string;
  credited: string;
}

export async function totalsOf(world: World, asset: string): Promise<Totals> {
  return (await world.escrow.view("asset_totals", { asset })) as Totals;
}

/** A failed call's messages, quotes unescaped so they match as the contract wrote them. */
export function failureText(result: TransactionResult): string {
  return result.receiptFailureMessages.join("\n").replaceAll('\\"', '"');
}

// Random operations

/** mulberry32: a small deterministic PRNG, so a seed replays its choices. */
export function seededRandom(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function pick<T>(rng: () => number, items: readonly T[]): T | undefined {
  return items.length === 0 ? undefined : items[Math.floor(rng() * items.length)];
}

// Sessions

export const SESSION_STORAGE_FEE = 5000n * BYTE_COST;

export interface SessionView {
  id: string;
  client: string;
  payer: string;
  client_key: string;
  machine_id: string;
  provider: string;
  machine_public_key: string;
  price_per_unit: string;
  fee_bps: number;
  keyset_sha256: string;
  encryption_key: string;
  asset: string;
  budget: string;
  claimed: string;
  nonce: string;
  voucher_signature: string | null;
  status: string;
  opened_at: string;
  expires_at: string;
  closed_by: string | null;
  dispute_deadline: string | null;
  arbitration_deadline: string | null;
  provider_payout: string | null;
  fee: string | null;
  client_refund: string | null;
  settled_by: string | null;
  slash_requested: boolean;
}

/** A client's session key: the key pair and its "ed25519:<base58>" spelling. */
export interface SessionKey {
  keyPair: KeyPair;
  publicKey: string;
}

export function newSessionKey(): SessionKey {
  const keyPair = KeyPair.fromRandom("ed25519");
  return { keyPair, publicKey: keyPair.getPublicKey().toString() };
}

/** The fields of a session on `machine` with `key`, at most the test price, for a minute. */
export function sessionFields(
  machine: TestMachine,
  key: SessionKey,
  overrides: Record<string, unknown> = {},
) {
  return {
    machine_id: machine.id,
    client_key: key.publicKey,
    keyset_sha256: machine.keysetSha256,
    max_price_per_unit: PRICE.toString(),
    expires_within_ns: (60n * SECOND_NS).toString(),
    ...overrides,
  };
}

/** The session a successful open_session (or ft_transfer_call) opened. */
export function openedSession(result: TransactionResult): SessionView {
  expect(result.failed, result.receiptFailureMessages.join("\n")).toBe(false);
  const opened = result.logs
    .filter((line) => line.startsWith("EVENT_JSON:"))
    .map((line) => JSON.parse(line.slice("EVENT_JSON:".length)))
    .find((event) => event.event === "session_opened");
  expect(opened, `no session_opened in ${result.logs.join("\n")}`).toBeDefined();
  return opened.data[0] as SessionView;
}

export async function openNearSession(
  world: World,
  client: NearAccount,
  key: SessionKey,
  budget: bigint,
  overrides: Record<string, unknown> = {},
): Promise<SessionView> {
  const result = await callRaw(client, world.escrow, {
    method: "open_session",
    args: sessionFields(world.machine, key, overrides),
    deposit: budget,
    gas: MAX_GAS,
  });
  return openedSession(result);
}

export async function sessionOf(world: World, id: string): Promise<SessionView> {
  return (await world.escrow.view("session", { session_id: id })) as SessionView;
}

/** Every session of `clients` (as client or payer), through sessions_by_client's pages. */
export async function allSessions(
  world: World,
  clients: NearAccount[] = [world.alice, world.bob],
): Promise<SessionView[]> {
  const byId = new Map<string, SessionView>();
  for (const client of clients) {
    for (let from = 0; ; from += 50) {
      const page = (await world.escrow.view("sessions_by_client", {
        account_id: client.accountId,
        from_index: from,
        limit: 50,
      })) as SessionView[];
      for (const session of page) byId.set(session.id, session);
      if (page.length < 50) break;
    }
  }
  return [...byId.values()];
}

export function voucherDigest(escrow: string, sessionId: string, amount: bigint, nonce: bigint) {
  return documentDigest({
    version: "gpumarket/v1/voucher",
    escrow,
    session_id: sessionId,
    amount: amount.toString(),
    nonce: nonce.toString(),
  });
}

/** claim_session's voucher fields, signed by `key`. */
export function voucher(
  world: World,
  sessionId: string,
  key: SessionKey,
  amount: bigint,
  nonce: bigint,
): { amount: string; nonce: string; signature: string } {
  return {
    amount: amount.toString(),
    nonce: nonce.toString(),
    signature: sign(key.keyPair, voucherDigest(world.escrow.accountId, sessionId, amount, nonce)),
  };
}
