/** Shared setup and assertions of the registry suites. */
import { readFileSync } from "node:fs";
import type { NearAccount, TransactionResult, Worker } from "near-workspaces";
import { expect } from "vitest";
import { contractWasm } from "../../src/contracts.ts";
import { rpc } from "../../src/rpc.ts";
import {
  type EvidenceBytes,
  HARDWARE,
  type Keyset,
  keysetArgs,
  type MachineKey,
  MEASUREMENTS,
  type ModelEntry,
  machineKeyProof,
  newEvidence,
  newKeyset,
} from "./fixtures.ts";

export * from "./fixtures.ts";

export const ONE_NEAR = 10n ** 24n;
export const MILLI_NEAR = 10n ** 21n;
export const TGAS = 1_000_000_000_000n;
export const GAS = 100n * TGAS;
/** More than any one call here burns in gas: a failure may cost the caller at most this. */
export const GAS_FEE_BOUND = ONE_NEAR / 100n;
export const SECOND_NS = 1_000_000_000n;

export const registryWasm = (): Buffer => readFileSync(contractWasm("registry"));

export interface RegistryParams {
  min_bond?: string;
  unbonding_period_ns?: string;
  challenge_ttl_ns?: string;
  attestation_ttl_ns?: string;
  max_evidence_bytes?: number;
  allowed_tcb_statuses?: string[];
}

/** A sub-account of root with the registry deployed and initialized. */
export async function deployRegistry(
  root: NearAccount,
  name: string,
  owner: NearAccount,
  treasury: NearAccount,
  params: RegistryParams = {},
): Promise<NearAccount> {
  const registry = await root.createSubAccount(name, { initialBalance: 30n * ONE_NEAR });
  await registry.deploy(registryWasm());
  await registry.call(
    registry,
    "init",
    { owner: owner.accountId, treasury: treasury.accountId, params },
    { gas: GAS },
  );
  return registry;
}

export async function balanceOf(account: NearAccount): Promise<bigint> {
  return BigInt((await account.accountView()).amount);
}

/** Every storage entry of the contract, as sorted key=value lines. */
export async function stateOf(contract: NearAccount): Promise<string[]> {
  const items = await contract.viewStateRaw();
  return items
    .map((item) => {
      const key = Buffer.from(item.key, "base64").toString("latin1");
      return `${key}=${Buffer.from(item.value, "base64").toString("latin1")}`;
    })
    .sort();
}

export interface GpuMarketEvent {
  standard: string;
  version: string;
  event: string;
  data: Record<string, unknown>[];
}

export function eventsOf(result: TransactionResult): GpuMarketEvent[] {
  return result.logs
    .filter((line) => line.startsWith("EVENT_JSON:"))
    .map((line) => JSON.parse(line.slice("EVENT_JSON:".length)) as GpuMarketEvent);
}

/** The single event a successful call emitted, checked to be well-formed and of `name`. */
export function onlyEvent(result: TransactionResult, name: string): Record<string, unknown> {
  expect(result.failed, result.receiptFailureMessages.join("\n")).toBe(false);
  const events = eventsOf(result);
  expect(events.map((e) => e.event)).toEqual([name]);
  const [event] = events;
  expect(event?.standard).toBe("gpumarket");
  expect(event?.version).toBe("1.0.0");
  expect(event?.data).toHaveLength(1);
  return event?.data[0] ?? {};
}

export interface Call {
  method: string;
  args: Record<string, unknown> | Uint8Array;
  deposit?: bigint;
  gas?: bigint;
}

export function callRaw(
  caller: NearAccount,
  contract: NearAccount,
  { method, args, deposit = 0n, gas = GAS }: Call,
): Promise<TransactionResult> {
  return caller.callRaw(contract, method, args, { gas, attachedDeposit: deposit });
}

/** Calls and requires success; returns the transaction result. */
export async function callOk(
  caller: NearAccount,
  contract: NearAccount,
  call: Call,
): Promise<TransactionResult> {
  const result = await callRaw(caller, contract, call);
  expect(result.failed, result.receiptFailureMessages.join("\n")).toBe(false);
  return result;
}

/**
 * The call fails with `message`, leaves every storage entry of the contract as it was, costs the
 * caller only gas (the deposit came back), and moves no money to `watched` accounts.
 */
export async function expectRejected(
  caller: NearAccount,
  contract: NearAccount,
  call: Call,
  message: string | RegExp,
  watched: NearAccount[] = [],
): Promise<void> {
  const stateBefore = await stateOf(contract);
  const callerBefore = await balanceOf(caller);
  const contractBefore = await balanceOf(contract);
  const watchedBefore = await Promise.all(watched.map(balanceOf));
  const result = await callRaw(caller, contract, call);
  expect(result.failed, `${call.method} should have failed`).toBe(true);
  // Failure messages arrive JSON-encoded: unescape quotes so messages match as the contract wrote them.
  const failure = result.receiptFailureMessages.join("\n").replaceAll('\\"', '"');
  if (typeof message === "string") {
    expect(failure).toContain(message);
  } else {
    expect(failure).toMatch(message);
  }
  expect(eventsOf(result)).toEqual([]);
  expect(await stateOf(contract)).toEqual(stateBefore);
  const spent = callerBefore - (await balanceOf(caller));
  expect(spent).toBeGreaterThan(0n);
  expect(spent).toBeLessThan(GAS_FEE_BOUND);
  const contractGain = (await balanceOf(contract)) - contractBefore;
  expect(contractGain).toBeGreaterThanOrEqual(0n);
  expect(contractGain).toBeLessThan(GAS_FEE_BOUND);
  expect(await Promise.all(watched.map(balanceOf))).toEqual(watchedBefore);
}

export const CHALLENGE_DEPOSIT = 10n * MILLI_NEAR;
export const MACHINE_DEPOSIT = 100n * MILLI_NEAR;
export const VERDICT_DEPOSIT = 30n * MILLI_NEAR;

export async function registerProvider(
  registry: NearAccount,
  provider: NearAccount,
  deposit = 3n * ONE_NEAR,
): Promise<TransactionResult> {
  return callOk(provider, registry, {
    method: "register_provider",
    args: {
      name: `Provider ${provider.accountId}`,
      endpoint: "https://gpu.example.com/v1",
      region: "eu-west-1",
    },
    deposit,
  });
}

export async function requestChallenge(
  registry: NearAccount,
  provider: NearAccount,
  key: MachineKey,
): Promise<{ provider: string; machine_public_key: string; nonce: string; expires_at: string }> {
  const result = await callOk(provider, registry, {
    method: "request_challenge",
    args: { machine_public_key: key.text },
    deposit: CHALLENGE_DEPOSIT,
  });
  return result.parseResult();
}

export interface AddedMachine {
  id: string;
  key: MachineKey;
  keyset: Keyset;
  keysetSha256: string;
  evidence: EvidenceBytes;
  nonce: string;
  result: TransactionResult;
}

/**
 * add_machine's arguments; `proof` is the machine key's signature for the open challenge
 * (machineKeyProof), left out when undefined.
 */
export function addMachineArgs(
  keyset: Keyset,
  evidence: EvidenceBytes,
  teeType = "tdx",
  proof?: string,
): Record<string, unknown> {
  return {
    ...keysetArgs(keyset),
    tee_type: teeType,
    hardware: HARDWARE,
    price_per_unit: "1000000000000000000",
    evidence: evidence.base64,
    ...(proof === undefined ? {} : { machine_key_signature: proof }),
  };
}

/** The proof of possession of `key` for `provider`'s open challenge `nonce` on `registry`. */
export function proofFor(
  registry: NearAccount,
  provider: NearAccount,
  key: MachineKey,
  nonce: string,
): string {
  return machineKeyProof(key, provider.accountId, registry.accountId, nonce);
}

/** Challenge then add_machine with a fresh keyset (unless given) and fresh evidence. */
export async function addMachine(
  registry: NearAccount,
  provider: NearAccount,
  teeType = "tdx",
  keyset: Keyset = newKeyset(),
  evidence: EvidenceBytes = newEvidence(),
): Promise<AddedMachine> {
  const { nonce } = await requestChallenge(registry, provider, keyset.key);
  const result = await callOk(provider, registry, {
    method: "add_machine",
    args: addMachineArgs(
      keyset,
      evidence,
      teeType,
      proofFor(registry, provider, keyset.key, nonce),
    ),
    deposit: MACHINE_DEPOSIT,
  });
  const machine = result.parseResult<{ id: string; keyset_sha256: string }>();
  return {
    id: machine.id,
    key: keyset.key,
    keyset,
    keysetSha256: machine.keyset_sha256,
    evidence,
    nonce,
    result,
  };
}

export function verdictArgs(
  machineId: string,
  evidenceHash: string,
  approve: boolean,
  measurements: typeof MEASUREMENTS | null = MEASUREMENTS,
): Record<string, unknown> {
  return {
    machine_id: machineId,
    evidence_hash: evidenceHash,
    approve,
    measurements,
    tcb_status: approve ? "UpToDate" : "OutOfDate",
    reason: approve ? "" : "quote does not verify",
  };
}

export async function postVerdict(
  registry: NearAccount,
  verifier: NearAccount,
  machineId: string,
  evidenceHash: string,
  approve: boolean,
  measurements: typeof MEASUREMENTS | null = MEASUREMENTS,
): Promise<TransactionResult> {
  return callOk(verifier, registry, {
    method: "post_verdict",
    args: verdictArgs(machineId, evidenceHash, approve, measurements),
    deposit: VERDICT_DEPOSIT,
  });
}

export interface Eligibility {
  machine_id: string;
  eligible: boolean;
  reason?: string;
  machine_public_key: string | null;
  price_per_unit: string | null;
  provider: string | null;
  encryption_key: string | null;
  keyset_sha256: string | null;
  models: ModelEntry[] | null;
}

export function isEligible(registry: NearAccount, machineId: string): Promise<Eligibility> {
  return registry.view("is_eligible", { machine_id: machineId }) as Promise<Eligibility>;
}

/** Latest block timestamp (ns) of the node. */
export async function nowNs(worker: Worker): Promise<bigint> {
  const block = await rpc<{ header: { timestamp_nanosec: string } }>(worker, "block", {
    finality: "optimistic",
  });
  return BigInt(block.header.timestamp_nanosec);
}

/** Fast-forwards blocks until the node's clock passes `targetNs` (about a second per block). */
export async function advancePast(worker: Worker, targetNs: bigint): Promise<void> {
  for (let i = 0; i < 10; i++) {
    const now = await nowNs(worker);
    if (now > targetNs) {
      return;
    }
    await worker.provider.fastForward(Number((targetNs - now) / SECOND_NS) + 2);
  }
  expect(await nowNs(worker)).toBeGreaterThan(targetNs);
}
