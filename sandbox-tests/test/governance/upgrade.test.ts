/**
 * Governance upgrades: the registry to a new version that migrates its state, voted by several
 * holders through delegation; a failing migration that leaves everything intact and is retryable;
 * governance upgrading itself; blobs and their storage; the gas execute asks for.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import type { NearAccount } from "near-workspaces";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { contractCodeHash, contractWasm } from "../../src/contracts.ts";
import {
  addMachine,
  balanceOf,
  callOk,
  callRaw,
  eventsOf,
  expectRejected,
  ONE_NEAR,
  registerProvider,
  stateOf,
  TGAS,
} from "../registry/helpers.ts";
import {
  type Dao,
  delegate,
  endVoting,
  eventNames,
  execute,
  pass,
  proposal,
  propose,
  queueAndWait,
  setupDao,
  startVoting,
  storeBlob,
  vote,
} from "./helpers.ts";

const wasm = (name: string): Buffer => readFileSync(contractWasm(name));

let dao: Dao;

beforeAll(async () => {
  dao = await setupDao();
  // bob and carol delegate to alice; alice delegates to herself: 900 of 1000 tokens vote via alice.
  await delegate(dao, dao.alice, dao.alice);
  await delegate(dao, dao.bob, dao.alice);
  await delegate(dao, dao.carol, dao.carol);
  await registerProvider(dao.registry, dao.dave);
  await addMachine(dao.registry, dao.dave);
});

afterAll(async () => {
  await dao?.worker.tearDown();
});

describe("blobs", () => {
  test("store_blob keeps the wasm, charges its storage and returns its hashes", async () => {
    const code = wasm("registry-v2");
    const before = await balanceOf(dao.dave);
    const blob = await storeBlob(dao, dao.dave, code);
    expect(blob.size).toBe(code.length);
    expect(blob.code_hash).toBe(contractCodeHash("registry-v2"));
    const spent = before - (await balanceOf(dao.dave));
    // The deposit pays the bytes stored at storage_byte_cost (1e19 yoctoNEAR a byte); the rest comes back.
    expect(spent).toBeGreaterThan(BigInt(code.length) * 10n ** 19n);
    expect(spent).toBeLessThan(BigInt(code.length + 1000) * 10n ** 19n + ONE_NEAR / 10n);
    expect(await dao.gov.view("blob", { code_sha256: blob.code_sha256 })).toMatchObject({
      payer: dao.dave.accountId,
      size: code.length,
      proposals: [],
    });
  });

  test("store_blob rejects non-wasm, a blob stored twice and too small a deposit", async () => {
    await expectRejected(
      dao.dave,
      dao.gov,
      { method: "store_blob", args: new TextEncoder().encode('{"x":1}'), deposit: ONE_NEAR },
      "the input must be wasm bytes",
    );
    await expectRejected(
      dao.dave,
      dao.gov,
      {
        method: "store_blob",
        args: wasm("registry-v2"),
        deposit: 10n * ONE_NEAR,
        gas: 300n * TGAS,
      },
      "is already stored",
    );
    await expectRejected(
      dao.dave,
      dao.gov,
      { method: "store_blob", args: wasm("probe"), deposit: ONE_NEAR, gas: 300n * TGAS },
      /attached deposit 1000000000000000000000000 is less than the \d+ required/,
    );
  });

  test("only the payer removes a blob, and gets its storage back", async () => {
    const blob = await storeBlob(dao, dao.carol, wasm("probe"));
    await expectRejected(
      dao.dave,
      dao.gov,
      { method: "remove_blob", args: { code_sha256: blob.code_sha256 } },
      `only the blob's payer (${dao.carol.accountId}) may remove it`,
    );
    const before = await balanceOf(dao.carol);
    const result = await callOk(dao.carol, dao.gov, {
      method: "remove_blob",
      args: { code_sha256: blob.code_sha256 },
    });
    expect(eventNames(result)).toEqual(["blob_removed"]);
    const refunded = (await balanceOf(dao.carol)) - before;
    expect(refunded).toBeGreaterThan(BigInt(blob.size) * 10n ** 19n - ONE_NEAR / 100n);
    expect(await dao.gov.view("blob", { code_sha256: blob.code_sha256 })).toBeNull();
  });
});

describe("upgrading the registry", () => {
  test("governed methods cannot be called directly, not even by a holder", async () => {
    await expectRejected(
      dao.alice,
      dao.registry,
      { method: "upgrade", args: wasm("registry-v2"), gas: 200n * TGAS },
      `only the owner (${dao.gov.accountId}) may call upgrade`,
    );
    await expectRejected(
      dao.alice,
      dao.registry,
      { method: "set_dev_mode", args: { enabled: true } },
      `only the owner (${dao.gov.accountId}) may call set_dev_mode`,
    );
    await expectRejected(
      dao.alice,
      dao.escrow,
      { method: "set_params", args: { params: { fee_bps: 1 } } },
      dao.gov.accountId,
    );
  });

  test("a failing migration leaves the old code and state; the proposal fails, retryable", async () => {
    const bad = await storeBlob(dao, dao.alice, wasm("registry-bad-migrate"));
    const id = await propose(dao, dao.alice, [
      { kind: "upgrade", target: dao.registry.accountId, code_sha256: bad.code_sha256 },
    ]);
    await pass(dao, id, [dao.alice]);
    const stateBefore = await stateOf(dao.registry);
    const result = await execute(dao, dao.dave, id);
    expect(result.failed).toBe(false);
    expect(eventNames(result)).toEqual([
      "proposal_action_started",
      "contract_upgrade_started",
      "proposal_failed",
    ]);
    expect((await dao.registry.accountView()).code_hash).toBe(contractCodeHash("registry"));
    expect(await stateOf(dao.registry)).toEqual(stateBefore);
    const failed = await proposal(dao, id);
    expect(failed).toMatchObject({ status: "failed", executed_actions: 0 });
    expect(failed.failure).toContain(`the receipt on ${dao.registry.accountId} failed`);
    // A retry runs the same action again, and fails the same way, still changing nothing.
    const retry = await execute(dao, dao.carol, id);
    expect(eventNames(retry)).toContain("proposal_failed");
    expect(await stateOf(dao.registry)).toEqual(stateBefore);
    // While the failed proposal may still be retried, its blob stays.
    await expectRejected(
      dao.alice,
      dao.gov,
      { method: "remove_blob", args: { code_sha256: bad.code_sha256 } },
      `proposal(s) ${id} may still execute this blob`,
    );
    // The guardian cancels it; then the blob may go.
    await callOk(dao.guardian, dao.gov, { method: "cancel", args: { proposal_id: id } });
    await callOk(dao.alice, dao.gov, {
      method: "remove_blob",
      args: { code_sha256: bad.code_sha256 },
    });
  });

  test("several holders with delegation vote the registry to v2, which migrates its state", async () => {
    const v2 = await ownBlob("registry-v2", dao.carol);
    const machineBefore = await dao.registry.view("machine", { machine_id: "0" });
    const id = await propose(
      dao,
      dao.carol,
      [{ kind: "upgrade", target: dao.registry.accountId, code_sha256: v2.code_sha256 }],
      "Upgrade the registry to v2",
    );
    await startVoting(dao, id);
    await vote(dao, dao.alice, id, "for");
    await vote(dao, dao.carol, id, "against");
    const voted = await proposal(dao, id);
    expect(voted.votes_for).toBe((700n * 10n ** 24n).toString());
    expect(voted.votes_against).toBe((200n * 10n ** 24n).toString());
    // bob delegated to alice: he has no votes of his own.
    await expectRejected(
      dao.bob,
      dao.gov,
      { method: "vote", args: { proposal_id: id, support: "for" }, deposit: ONE_NEAR / 100n },
      `${dao.bob.accountId} had no voting power at the snapshot height`,
    );
    await endVoting(dao, id);
    expect((await proposal(dao, id)).status).toBe("succeeded");
    await queueAndWait(dao, id);

    const result = await execute(dao, dao.dave, id);
    expect(result.failed, result.receiptFailureMessages.join("\n")).toBe(false);
    expect(eventNames(result)).toEqual([
      "proposal_action_started",
      "contract_upgrade_started",
      "contract_migrated",
      "proposal_action_executed",
      "proposal_executed",
    ]);
    expect((await dao.registry.accountView()).code_hash).toBe(contractCodeHash("registry-v2"));
    // registry-v2 is the registry's next version: state version 3 to 4.
    expect(await dao.registry.view("registry_info", {})).toMatchObject({
      version: 4,
      owner: dao.gov.accountId,
    });
    const info = (await dao.registry.view("registry_v2_info", {})) as { migrated_at: string };
    expect(Number(info.migrated_at)).toBeGreaterThan(0);
    expect(await dao.registry.view("machine", { machine_id: "0" })).toEqual(machineBefore);
    expect(await proposal(dao, id)).toMatchObject({ status: "executed", executed_actions: 1 });
    // Executed once: never again.
    await expectRejected(
      dao.dave,
      dao.gov,
      { method: "execute", args: { proposal_id: id }, gas: 300n * TGAS },
      `proposal ${id} is executed: only a queued or failed proposal can be executed`,
    );
  });
});

/**
 * The blob of `name`, stored by `payer` (only a blob's payer may propose it): a copy another
 * account stored is removed by that account first.
 */
async function ownBlob(name: string, payer: NearAccount): Promise<{ code_sha256: string }> {
  const code = wasm(name);
  const sha = createHash("sha256").update(code).digest("hex");
  const info = (await dao.gov.view("blob", { code_sha256: sha })) as { payer: string } | null;
  if (info?.payer === payer.accountId) {
    return { code_sha256: sha };
  }
  if (info !== null) {
    await callOk(dao.root.getAccount(info.payer), dao.gov, {
      method: "remove_blob",
      args: { code_sha256: sha },
    });
  }
  await storeBlob(dao, payer, code);
  return { code_sha256: sha };
}

describe("gas and self-upgrade", () => {
  test("execute with too little gas fails before anything changes, naming the gas to attach", async () => {
    const blob = await ownBlob("registry", dao.alice);
    const id = await propose(dao, dao.alice, [
      { kind: "upgrade", target: dao.registry.accountId, code_sha256: blob.code_sha256 },
    ]);
    await pass(dao, id, [dao.alice]);
    await expectRejected(
      dao.dave,
      dao.gov,
      { method: "execute", args: { proposal_id: id }, gas: 100n * TGAS },
      /execute: action 0 \(upgrade\) needs about \d+ Tgas more than is left: attach at least \d+ Tgas/,
    );
    expect((await proposal(dao, id)).status).toBe("queued");
  });

  test("governance upgrades itself through a proposal; migrate checks the state version", async () => {
    await expectRejected(
      dao.alice,
      dao.gov,
      { method: "migrate", args: {} },
      "migrate may only be called by governance itself",
    );
    const blob = await ownBlob("governance", dao.alice);
    const id = await propose(dao, dao.alice, [
      { kind: "upgrade_self", code_sha256: blob.code_sha256 },
      { kind: "config", config: { timelock_blocks: 7 } },
    ]);
    await pass(dao, id, [dao.alice]);
    const result = await execute(dao, dao.dave, id);
    expect(result.failed, result.receiptFailureMessages.join("\n")).toBe(false);
    expect(eventNames(result)).toEqual([
      "contract_upgrade_started",
      "proposal_action_started",
      "contract_migrated",
      "proposal_action_executed",
      "config_updated",
      "proposal_action_executed",
      "proposal_executed",
    ]);
    expect(await dao.gov.view("get_config", {})).toMatchObject({ timelock_blocks: 7 });
    expect(await dao.gov.view("governance_info", {})).toMatchObject({ version: 2 });
    expect(await dao.gov.view("ft_total_supply", {})).toBe((1000n * 10n ** 24n).toString());
  });

  test("migrate from version 1: its proposals keep the grace period then in force; its accounts count as owed once written", async () => {
    const text = async (key: string): Promise<string> => {
      const item = (await dao.gov.viewStateRaw()).find(
        (entry) => Buffer.from(entry.key, "base64").toString() === key,
      );
      return item === undefined ? "0" : Buffer.from(item.value, "base64").toString();
    };
    const raw = async (key: string): Promise<Record<string, unknown>> =>
      JSON.parse(await text(key));
    const owed = async (): Promise<bigint> => BigInt(await text("so"));
    const blob = await ownBlob("governance", dao.alice);
    const id = await propose(dao, dao.alice, [
      { kind: "upgrade_self", code_sha256: blob.code_sha256 },
    ]);
    const old = await propose(dao, dao.alice, [{ kind: "config", config: { quorum_bps: 2000 } }]);
    await pass(dao, id, [dao.alice]);
    // As version 1 stored them: no grace period of the proposal's own, no grant, no legacy grace.
    const { grace_period_blocks: _grace, ...v1Proposal } = await raw(`p:${old}`);
    await dao.gov.patchState(`p:${old}`, JSON.stringify(v1Proposal));
    const { g: _grant, ...v1Account } = await raw(`a:${dao.carol.accountId}`);
    await dao.gov.patchState(`a:${dao.carol.accountId}`, JSON.stringify(v1Account));
    const { legacy_grace_period_blocks: _legacy, ...v1State } = await raw("STATE");
    await dao.gov.patchState("STATE", JSON.stringify({ ...v1State, version: 1 }));
    const owedBefore = await owed();

    const result = await execute(dao, dao.dave, id);
    expect(result.failed, result.receiptFailureMessages.join("\n")).toBe(false);
    expect(eventsOf(result).find((e) => e.event === "contract_migrated")?.data).toEqual([
      { from_version: 1, to_version: 2 },
    ]);
    const { grace_period_blocks: grace } = (await dao.gov.view("get_config", {})) as {
      grace_period_blocks: number;
    };
    expect(await dao.gov.view("governance_info", {})).toMatchObject({
      version: 2,
      legacy_grace_period_blocks: grace,
    });
    const view = await proposal(dao, old);
    expect(view.expires_height).toBe(view.vote_end_height + grace);
    // carol's version 1 record counts in what the treasury may not spend once it is written again.
    expect(await owed()).toBe(owedBefore);
    await callOk(dao.carol, dao.gov, { method: "storage_deposit", args: {}, deposit: ONE_NEAR });
    const account = (await raw(`a:${dao.carol.accountId}`)) as { t: string; u: string; g: string };
    expect(account.g).toBe("0");
    const refund = BigInt(account.t) - (BigInt(account.u) - 300n) * 10n ** 19n;
    expect((await owed()) - owedBefore).toBe(refund);
  });

  test("the callback is private", async () => {
    await expectRejected(
      dao.alice,
      dao.gov,
      { method: "on_action_done", args: { proposal_id: 0, index: 0 } },
      "Function is private",
    );
    const raw = await callRaw(dao.alice, dao.gov, {
      method: "ft_resolve_transfer",
      args: { sender_id: dao.alice.accountId, receiver_id: dao.bob.accountId, amount: "1" },
    });
    expect(raw.failed).toBe(true);
  });
});
