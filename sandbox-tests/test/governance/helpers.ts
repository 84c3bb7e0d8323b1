/** Shared setup of the governance suites: a DAO owning the registry and the escrow. */
import { readFileSync } from "node:fs";
import { type NearAccount, type TransactionResult, Worker } from "near-workspaces";
import { expect } from "vitest";
import { contractWasm } from "../../src/contracts.ts";
import { rpc } from "../../src/rpc.ts";
import { callOk, callRaw, deployRegistry, eventsOf, ONE_NEAR, TGAS } from "../registry/helpers.ts";

/** One governance token, in base units (24 decimals). */
export const TOKEN = 10n ** 24n;
export const STORAGE_DEPOSIT = ONE_NEAR / 10n;
/** Enough for a proposal's or a vote's storage; the surplus comes back. */
export const PROPOSAL_DEPOSIT = ONE_NEAR / 10n;
export const VOTE_DEPOSIT = ONE_NEAR / 100n;
/** An upgrade of a ~550 KB contract: see BENCHMARKS.md for what it burns. */
export const EXECUTE_GAS = 300n * TGAS;

export const TEST_CONFIG = {
  // Each transaction takes a few blocks here: windows leave room for several, and tests
  // fast-forward over them.
  voting_delay_blocks: 30,
  voting_period_blocks: 100,
  timelock_blocks: 20,
  grace_period_blocks: 50,
  quorum_bps: 2000,
  proposal_threshold: (50n * TOKEN).toString(),
};

export interface Dao {
  worker: Worker;
  root: NearAccount;
  gov: NearAccount;
  registry: NearAccount;
  escrow: NearAccount;
  usdc: NearAccount;
  alice: NearAccount;
  bob: NearAccount;
  carol: NearAccount;
  dave: NearAccount;
  guardian: NearAccount;
}

/**
 * alice 400, bob 300, carol 200 tokens and the treasury (gov itself) 100: quorum 20% = 200.
 * dave holds nothing. The registry and the escrow name gov as their owner.
 */
export async function setupDao(config: Record<string, unknown> = {}): Promise<Dao> {
  const worker = await Worker.init();
  const root = worker.rootAccount;
  const make = (name: string, near = 200n) =>
    root.createSubAccount(name, { initialBalance: near * ONE_NEAR });
  // One after another: they share the root account's nonce.
  const alice = await make("alice");
  const bob = await make("bob");
  const carol = await make("carol");
  const dave = await make("dave");
  const guardian = await make("guardian");
  const gov = await make("gov", 100n);
  const registry = await deployRegistry(root, "registry", gov, gov);
  const escrow = await make("escrow", 30n);
  await escrow.deploy(readFileSync(contractWasm("escrow")));
  await callOk(escrow, escrow, {
    method: "init",
    args: {
      owner: gov.accountId,
      treasury: gov.accountId,
      arbiter: guardian.accountId,
      registry: registry.accountId,
    },
  });
  const usdc = await make("usdc", 30n);
  await usdc.deploy(readFileSync(contractWasm("usdc")));
  await callOk(usdc, usdc, {
    method: "init",
    args: { owner_id: gov.accountId, total_supply: "1000000000000" },
  });
  await gov.deploy(readFileSync(contractWasm("governance")));
  await callOk(gov, gov, {
    method: "init",
    args: {
      metadata: { name: "GPU Market Governance", symbol: "GPUG", decimals: 24 },
      config: {
        ...TEST_CONFIG,
        guardian: guardian.accountId,
        governed: [registry.accountId, escrow.accountId],
        ...config,
      },
      holders: [
        { account_id: alice.accountId, amount: (400n * TOKEN).toString() },
        { account_id: bob.accountId, amount: (300n * TOKEN).toString() },
        { account_id: carol.accountId, amount: (200n * TOKEN).toString() },
        { account_id: gov.accountId, amount: (100n * TOKEN).toString() },
      ],
    },
  });
  return { worker, root, gov, registry, escrow, usdc, alice, bob, carol, dave, guardian };
}

export async function height(worker: Worker): Promise<number> {
  const block = await rpc<{ header: { height: number } }>(worker, "block", {
    finality: "optimistic",
  });
  return block.header.height;
}

/** Produces blocks until the head is at least `target`. */
export async function advanceTo(worker: Worker, target: number): Promise<void> {
  const now = await height(worker);
  if (now < target) {
    await worker.provider.fastForward(target - now);
  }
  expect(await height(worker)).toBeGreaterThanOrEqual(target);
}

export function delegate(dao: Dao, from: NearAccount, to: NearAccount): Promise<TransactionResult> {
  return callOk(from, dao.gov, {
    method: "delegate",
    args: { delegatee: to.accountId },
    deposit: 1n,
  });
}

export interface ProposalView {
  id: number;
  status: string;
  snapshot_height: number;
  vote_end_height: number;
  eta_height: number | null;
  expires_height: number;
  votes_for: string;
  votes_against: string;
  votes_abstain: string;
  quorum: string;
  executed_actions: number;
  failure: string | null;
  stage: string;
}

export function proposal(dao: Dao, id: number): Promise<ProposalView> {
  return dao.gov.view("proposal", { proposal_id: id }) as Promise<ProposalView>;
}

export async function propose(
  dao: Dao,
  proposer: NearAccount,
  actions: unknown[],
  description = "a test proposal",
): Promise<number> {
  const result = await callOk(proposer, dao.gov, {
    method: "propose",
    args: { description, actions },
    deposit: PROPOSAL_DEPOSIT,
  });
  return result.parseResult<{ id: number }>().id;
}

export function vote(
  dao: Dao,
  voter: NearAccount,
  id: number,
  support: "for" | "against" | "abstain",
): Promise<TransactionResult> {
  return callOk(voter, dao.gov, {
    method: "vote",
    args: { proposal_id: id, support },
    deposit: VOTE_DEPOSIT,
  });
}

export async function startVoting(dao: Dao, id: number): Promise<void> {
  await advanceTo(dao.worker, (await proposal(dao, id)).snapshot_height + 1);
}

export async function endVoting(dao: Dao, id: number): Promise<void> {
  await advanceTo(dao.worker, (await proposal(dao, id)).vote_end_height + 1);
}

/** Queues a succeeded proposal and waits out its timelock. */
export async function queueAndWait(dao: Dao, id: number): Promise<void> {
  await callOk(dao.alice, dao.gov, { method: "queue", args: { proposal_id: id } });
  const queued = await proposal(dao, id);
  expect(queued.status).toBe("queued");
  await advanceTo(dao.worker, queued.eta_height ?? 0);
}

export function execute(dao: Dao, by: NearAccount, id: number): Promise<TransactionResult> {
  return callRaw(by, dao.gov, {
    method: "execute",
    args: { proposal_id: id },
    gas: EXECUTE_GAS,
  });
}

/** Every holder votes for, then the proposal is queued and becomes executable. */
export async function pass(dao: Dao, id: number, voters: NearAccount[]): Promise<void> {
  await startVoting(dao, id);
  for (const voter of voters) {
    await vote(dao, voter, id, "for");
  }
  await endVoting(dao, id);
  expect((await proposal(dao, id)).status).toBe("succeeded");
  await queueAndWait(dao, id);
}

export function eventNames(result: TransactionResult): string[] {
  return eventsOf(result).map((e) => e.event);
}

export async function storeBlob(
  dao: Dao,
  payer: NearAccount,
  wasm: Uint8Array,
): Promise<{ code_sha256: string; code_hash: string; size: number }> {
  const result = await callOk(payer, dao.gov, {
    method: "store_blob",
    args: wasm,
    deposit: 10n * ONE_NEAR,
    gas: 300n * TGAS,
  });
  return result.parseResult();
}
