/**
 * Governance findings of the security audit (issue 15), each replayed as the transaction sequence
 * that proved it, with balances checked: expired proposals revived (or queued ones expired) by a
 * change of grace_period_blocks, the treasury spending holders' NEP-145 deposits, refund
 * checkpoints of ft_transfer_call paid by the contract; and the smaller items: a blob pinned by
 * proposals of others, a proposal whose callback never came, initial holders unregistering
 * storage the contract paid for.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { balanceOf, callOk, expectRejected, ONE_NEAR, TGAS } from "../registry/helpers.ts";
import {
  advanceTo,
  type Dao,
  delegate,
  endVoting,
  execute,
  height,
  pass,
  proposal,
  propose,
  queueAndWait,
  STORAGE_DEPOSIT,
  setupDao,
  startVoting,
  storeBlob,
  TOKEN,
  vote,
} from "./helpers.ts";

const BYTE_COST = 10n ** 19n;

let dao: Dao;

const devMode = (enabled: boolean) => ({
  kind: "function_call",
  target: dao.registry.accountId,
  method: "set_dev_mode",
  args: { enabled },
});

const config = (patch: Record<string, unknown>) => ({ kind: "config", config: patch });

async function storageUsage(): Promise<bigint> {
  return BigInt((await dao.gov.accountView()).storage_usage);
}

async function storageBalance(
  account: Dao["alice"],
): Promise<{ total: bigint; available: bigint }> {
  const view = (await dao.gov.view("storage_balance_of", { account_id: account.accountId })) as {
    total: string;
    available: string;
  };
  return { total: BigInt(view.total), available: BigInt(view.available) };
}

beforeAll(async () => {
  dao = await setupDao();
  for (const holder of [dao.alice, dao.bob, dao.carol]) {
    await delegate(dao, holder, holder);
  }
});

afterAll(async () => {
  await dao?.worker.tearDown();
});

describe("finding: expiry computed with the current grace_period_blocks", () => {
  test("raising the grace period does not revive an expired proposal", async () => {
    const expiring = await propose(dao, dao.alice, [devMode(true)]);
    const raise = await propose(dao, dao.alice, [config({ grace_period_blocks: 100_000 })]);
    await startVoting(dao, raise);
    await vote(dao, dao.alice, expiring, "for");
    await vote(dao, dao.alice, raise, "for");
    await endVoting(dao, raise);
    await queueAndWait(dao, raise);
    const executed = await execute(dao, dao.dave, raise);
    expect(executed.failed, executed.receiptFailureMessages.join("\n")).toBe(false);
    expect(await dao.gov.view("get_config", {})).toMatchObject({ grace_period_blocks: 100_000 });
    // Its expiry was fixed when it was made (vote end + 50 blocks): it stays expired.
    const view = await proposal(dao, expiring);
    expect(view.expires_height).toBe(view.vote_end_height + 50);
    await advanceTo(dao.worker, view.expires_height + 1);
    expect((await proposal(dao, expiring)).status).toBe("expired");
    await expectRejected(
      dao.bob,
      dao.gov,
      { method: "queue", args: { proposal_id: expiring } },
      `proposal ${expiring} is expired`,
    );
    expect(await dao.registry.view("registry_info", {})).toMatchObject({ dev_mode: false });
  });

  test("lowering the grace period does not expire a queued proposal", async () => {
    const queued = await propose(dao, dao.alice, [devMode(true)]);
    const lower = await propose(dao, dao.alice, [config({ grace_period_blocks: 15 })]);
    await startVoting(dao, lower);
    await vote(dao, dao.alice, queued, "for");
    await vote(dao, dao.alice, lower, "for");
    await endVoting(dao, lower);
    await queueAndWait(dao, queued);
    await queueAndWait(dao, lower);
    expect((await execute(dao, dao.dave, lower)).failed).toBe(false);
    expect(await dao.gov.view("get_config", {})).toMatchObject({ grace_period_blocks: 15 });
    // Its expiry was fixed when it was made (the grace period then was 100000 blocks), not eta + 15.
    const view = await proposal(dao, queued);
    expect(view.expires_height).toBe((view.eta_height ?? 0) + 100_000);
    await advanceTo(dao.worker, (view.eta_height ?? 0) + 20);
    expect((await proposal(dao, queued)).status).toBe("queued");
    const result = await execute(dao, dao.dave, queued);
    expect(result.failed, result.receiptFailureMessages.join("\n")).toBe(false);
    expect(await dao.registry.view("registry_info", {})).toMatchObject({ dev_mode: true });
  });
});

describe("finding: the treasury spends holders' storage deposits", () => {
  test("a transfer may not take the NEP-145 deposits owed to holders; they stay withdrawable", async () => {
    await callOk(dao.dave, dao.gov, { method: "storage_deposit", args: {}, deposit: ONE_NEAR });
    const owedToDave = (await storageBalance(dao.dave)).available;
    expect(owedToDave).toBeGreaterThan(ONE_NEAR - ONE_NEAR / 100n);
    const account = await dao.gov.accountView();
    const free = BigInt(account.amount) - BigInt(account.storage_usage) * BYTE_COST;
    // What the old rule calls available, less half a NEAR: it includes dave's deposit.
    const amount = free - ONE_NEAR / 2n;
    const id = await propose(dao, dao.alice, [
      { kind: "transfer", receiver: dao.carol.accountId, amount: amount.toString() },
    ]);
    await pass(dao, id, [dao.alice, dao.bob]);
    const carolBefore = await balanceOf(dao.carol);
    const result = await execute(dao, dao.bob, id);
    expect(result.failed, result.receiptFailureMessages.join("\n")).toBe(false);
    expect((await proposal(dao, id)).failure).toMatch(
      /^action 0 \(transfer\): the transfer needs \d+ yoctoNEAR; the treasury has \d+ available$/,
    );
    expect(await balanceOf(dao.carol)).toBe(carolBefore);
    const before = await balanceOf(dao.dave);
    await callOk(dao.dave, dao.gov, { method: "storage_withdraw", args: {}, deposit: 1n });
    const gained = (await balanceOf(dao.dave)) - before;
    expect(gained).toBeGreaterThan(owedToDave - ONE_NEAR / 100n);
    expect(gained).toBeLessThanOrEqual(owedToDave + 1n);
  });
});

describe("finding: refund checkpoints paid by the contract", () => {
  test("every byte a refunded ft_transfer_call adds is charged to its sender", async () => {
    // The registry has no ft_on_transfer: every transfer_call to it is refunded in full. dave (who
    // paid his own storage) sends.
    await callOk(dao.alice, dao.gov, {
      method: "storage_deposit",
      args: { account_id: dao.registry.accountId },
      deposit: STORAGE_DEPOSIT,
    });
    await callOk(dao.dave, dao.gov, {
      method: "storage_deposit",
      args: {},
      deposit: STORAGE_DEPOSIT,
    });
    await callOk(dao.alice, dao.gov, {
      method: "ft_transfer",
      args: { receiver_id: dao.dave.accountId, amount: (10n * TOKEN).toString() },
      deposit: 1n,
    });
    await delegate(dao, dao.dave, dao.dave);
    for (let round = 0; round < 3; round++) {
      const usageBefore = await storageUsage();
      const daveBefore = await storageBalance(dao.dave);
      const result = await callOk(dao.dave, dao.gov, {
        method: "ft_transfer_call",
        args: { receiver_id: dao.registry.accountId, amount: TOKEN.toString(), msg: "" },
        deposit: 1n,
        gas: 300n * TGAS,
      });
      expect(result.parseResult<string>()).toBe("0");
      const added = (await storageUsage()) - usageBefore;
      expect(added).toBeGreaterThan(0n);
      const charged = daveBefore.available - (await storageBalance(dao.dave)).available;
      expect(charged, `round ${round}`).toBe(added * BYTE_COST);
    }
    expect(await dao.gov.view("ft_balance_of", { account_id: dao.dave.accountId })).toBe(
      (10n * TOKEN).toString(),
    );
  });
});

describe("also closed", () => {
  test("only a blob's payer may name it in a proposal, so nobody pins another's blob", async () => {
    const wasm = new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01]);
    const blob = await storeBlob(dao, dao.alice, wasm);
    await expectRejected(
      dao.carol,
      dao.gov,
      {
        method: "propose",
        args: {
          description: "pin it",
          actions: [
            { kind: "upgrade", target: dao.registry.accountId, code_sha256: blob.code_sha256 },
          ],
        },
        deposit: ONE_NEAR / 10n,
      },
      `actions[0].code_sha256: only the blob's payer (${dao.alice.accountId}) may propose it`,
    );
    const refund = await callOk(dao.alice, dao.gov, {
      method: "remove_blob",
      args: { code_sha256: blob.code_sha256 },
    });
    expect(BigInt(refund.parseResult<string>())).toBeGreaterThan(0n);
  });

  test("a proposal whose callback never came expires at its expiry height", async () => {
    const id = await propose(dao, dao.alice, [devMode(false)]);
    await pass(dao, id, [dao.alice]);
    // The state an action receipt leaves until its callback runs, as if it never did.
    const raw = (await dao.gov.viewStateRaw()).find(
      (item) => Buffer.from(item.key, "base64").toString() === `p:${id}`,
    );
    const stored = JSON.parse(Buffer.from(raw?.value ?? "", "base64").toString());
    await dao.gov.patchState(`p:${id}`, JSON.stringify({ ...stored, stage: "executing" }));
    expect((await proposal(dao, id)).status).toBe("executing");
    const view = await proposal(dao, id);
    await advanceTo(dao.worker, view.expires_height + 1);
    expect((await proposal(dao, id)).status).toBe("expired");
    await expectRejected(
      dao.bob,
      dao.gov,
      { method: "execute", args: { proposal_id: id }, gas: 300n * TGAS },
      `proposal ${id} is expired`,
    );
    expect(await height(dao.worker)).toBeGreaterThan(view.expires_height);
  });

  test("an initial holder cannot take back the storage the contract paid for it", async () => {
    const carolTokens = BigInt(
      (await dao.gov.view("ft_balance_of", { account_id: dao.carol.accountId })) as string,
    );
    await callOk(dao.carol, dao.gov, {
      method: "ft_transfer",
      args: { receiver_id: dao.bob.accountId, amount: carolTokens.toString() },
      deposit: 1n,
    });
    expect((await storageBalance(dao.carol)).available).toBe(0n);
    const before = await balanceOf(dao.carol);
    const govBefore = await balanceOf(dao.gov);
    const result = await callOk(dao.carol, dao.gov, {
      method: "storage_unregister",
      args: {},
      deposit: 1n,
    });
    expect(result.parseResult<boolean>()).toBe(true);
    // carol gets back the 1 yoctoNEAR she attached and nothing the contract paid.
    expect((await balanceOf(dao.carol)) - before).toBeLessThanOrEqual(0n);
    expect((await balanceOf(dao.gov)) - govBefore).toBeGreaterThanOrEqual(0n);
  });
});
