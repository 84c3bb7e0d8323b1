/**
 * Prepaid balances and spending allowances: an owner deposits, lets an agent spend up to a limit per
 * period; above it the job waits for the owner's approval (holding no funds); periods reset.
 */
import type { NearAccount } from "near-workspaces";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  advancePast,
  callOk,
  callRaw,
  createdJob,
  escrowBalance,
  eventsOf,
  expectRejected,
  jobFields,
  MAX_GAS,
  ONE_NEAR,
  onlyEvent,
  SECOND_NS,
  STORAGE_DEPOSIT,
  setupWorld,
  storageDeposit,
  type World,
} from "./helpers.ts";

let world: World;
let agent: NearAccount;
const LIMIT = 2n * ONE_NEAR;
const PERIOD_NS = 30n * SECOND_NS;

beforeAll(async () => {
  world = await setupWorld();
  agent = await world.root.createSubAccount("agent", { initialBalance: 100n * ONE_NEAR });
  await storageDeposit(world.escrow, agent, STORAGE_DEPOSIT);
});

afterAll(async () => {
  await world?.worker.tearDown();
});

function agentJob(amount: bigint, payer = world.alice.accountId) {
  return {
    method: "create_job",
    args: { ...jobFields(world.machine), asset: "NEAR", max_amount: amount.toString(), payer },
    gas: MAX_GAS,
  };
}

interface AllowanceView {
  limit: string;
  spent: string;
  period_start: string;
  period_ns: string;
}

const allowanceOf = async (): Promise<AllowanceView> =>
  (await world.escrow.view("allowance", {
    owner: world.alice.accountId,
    spender: agent.accountId,
    asset: "NEAR",
  })) as AllowanceView;

describe("prepaid balance", () => {
  test("the owner deposits NEAR, which is credited", async () => {
    const { alice, escrow } = world;
    const event = onlyEvent(
      await callOk(alice, escrow, { method: "deposit", args: {}, deposit: 5n * ONE_NEAR }),
      "deposit",
    );
    expect(event).toMatchObject({
      account_id: alice.accountId,
      asset: "NEAR",
      amount: (5n * ONE_NEAR).toString(),
    });
    expect(await escrowBalance(world, alice)).toBe(5n * ONE_NEAR);
  });

  test("a deposit needs a storage balance", async () => {
    const dave = await world.root.createSubAccount("dave", { initialBalance: 10n * ONE_NEAR });
    await expectRejected(
      dave,
      world.escrow,
      { method: "deposit", args: {}, deposit: ONE_NEAR },
      "has no storage balance",
    );
  });
});

describe("allowances", () => {
  test("without an allowance, the agent cannot spend the owner's balance", async () => {
    await expectRejected(
      agent,
      world.escrow,
      agentJob(ONE_NEAR),
      "has given agent.test.near no allowance",
    );
  });

  test("the owner sets one; the agent spends within it", async () => {
    const { alice, escrow } = world;
    const set = onlyEvent(
      await callOk(alice, escrow, {
        method: "set_allowance",
        args: {
          spender: agent.accountId,
          asset: "NEAR",
          limit: LIMIT.toString(),
          period_ns: PERIOD_NS.toString(),
        },
      }),
      "allowance_set",
    );
    expect(set).toMatchObject({
      owner: alice.accountId,
      spender: agent.accountId,
      spent: "0",
      limit: LIMIT.toString(),
    });
    const result = await callOk(agent, escrow, agentJob(ONE_NEAR + ONE_NEAR / 2n));
    const job = createdJob(result);
    expect(job).toMatchObject({ client: agent.accountId, payer: alice.accountId, asset: "NEAR" });
    expect((await allowanceOf()).spent).toBe((ONE_NEAR + ONE_NEAR / 2n).toString());
    expect(await escrowBalance(world, alice)).toBe(5n * ONE_NEAR - (ONE_NEAR + ONE_NEAR / 2n));
    // The agent and the owner both act as the client; refunds go to the owner.
    await callOk(agent, escrow, { method: "cancel_job", args: { job_id: job.id } });
    expect(await escrowBalance(world, alice)).toBe(5n * ONE_NEAR);
    expect(await escrowBalance(world, agent)).toBe(0n);
  });

  test("a job the registry refuses gives its amount back to the balance and the allowance", async () => {
    const { alice, escrow } = world;
    const allowanceBefore = await allowanceOf();
    const balanceBefore = await escrowBalance(world, alice);
    const result = await callRaw(agent, escrow, {
      ...agentJob(ONE_NEAR / 4n),
      args: { ...agentJob(ONE_NEAR / 4n).args, machine_id: "999" },
    });
    expect(result.failed, result.receiptFailureMessages.join("\n")).toBe(false);
    const events = eventsOf(result);
    expect(events.map((e) => e.event)).toEqual(["job_pending", "job_rejected"]);
    const pending = events[0]?.data[0] as { allowance: AllowanceView };
    expect(pending.allowance.spent).toBe(
      (BigInt(allowanceBefore.spent) + ONE_NEAR / 4n).toString(),
    );
    const rejected = events[1]?.data[0] as { reason: string; allowance: AllowanceView };
    expect(rejected.reason).toContain("unknown machine 999");
    expect(rejected.allowance).toMatchObject({
      spent: allowanceBefore.spent,
      period_start: allowanceBefore.period_start,
    });
    expect(await allowanceOf()).toMatchObject({ spent: allowanceBefore.spent });
    expect(await escrowBalance(world, alice)).toBe(balanceBefore);
  });

  test("above what is left, the job waits for approval and holds no funds", async () => {
    const { alice, bob, escrow } = world;
    const result = await callOk(agent, escrow, agentJob(ONE_NEAR));
    const approval = onlyEvent(result, "approval_requested") as { id: string };
    expect(await escrowBalance(world, alice)).toBe(5n * ONE_NEAR);
    const listed = (await escrow.view("approvals", { owner: alice.accountId })) as { id: string }[];
    expect(listed.map((a) => a.id)).toEqual([approval.id]);

    await expectRejected(
      agent,
      escrow,
      { method: "approve_job", args: { approval_id: approval.id }, gas: MAX_GAS },
      "only alice.test.near may approve",
    );
    await expectRejected(
      bob,
      escrow,
      { method: "reject_approval", args: { approval_id: approval.id } },
      "may reject request",
    );
    const approved = await callOk(alice, escrow, {
      method: "approve_job",
      args: { approval_id: approval.id },
      gas: MAX_GAS,
    });
    const job = createdJob(approved);
    expect(job).toMatchObject({
      client: agent.accountId,
      payer: alice.accountId,
      max_amount: ONE_NEAR.toString(),
    });
    expect(await escrowBalance(world, alice)).toBe(4n * ONE_NEAR);
    expect(await escrow.view("approval", { approval_id: approval.id })).toBeNull();
    // An approved job does not count against the allowance.
    expect((await allowanceOf()).spent).toBe((ONE_NEAR + ONE_NEAR / 2n).toString());
  });

  test("the agent withdraws a request, or the owner rejects one", async () => {
    const { alice, escrow } = world;
    for (const rejecter of [agent, alice]) {
      const approval = onlyEvent(
        await callOk(agent, escrow, agentJob(ONE_NEAR)),
        "approval_requested",
      ) as { id: string };
      const rejected = onlyEvent(
        await callOk(rejecter, escrow, {
          method: "reject_approval",
          args: { approval_id: approval.id },
        }),
        "approval_rejected",
      );
      expect(rejected.rejected_by).toBe(rejecter.accountId);
      await expectRejected(
        alice,
        escrow,
        { method: "approve_job", args: { approval_id: approval.id }, gas: MAX_GAS },
        "unknown approval request",
      );
    }
  });

  test("a new period starts with nothing spent", async () => {
    const before = await allowanceOf();
    await advancePast(world.worker, BigInt(before.period_start) + PERIOD_NS);
    expect((await allowanceOf()).spent).toBe("0");
    createdJob(await callOk(agent, world.escrow, agentJob(LIMIT)));
    const after = await allowanceOf();
    expect(after.spent).toBe(LIMIT.toString());
    expect(BigInt(after.period_start)).toBeGreaterThan(BigInt(before.period_start));
  });

  test("spending more than the owner's balance fails and changes nothing", async () => {
    const { alice, escrow } = world;
    await callOk(alice, escrow, {
      method: "set_allowance",
      args: {
        spender: agent.accountId,
        asset: "NEAR",
        limit: (100n * ONE_NEAR).toString(),
        period_ns: PERIOD_NS.toString(),
      },
    });
    await expectRejected(
      agent,
      escrow,
      agentJob(50n * ONE_NEAR),
      "less than the 50000000000000000000000000 needed for the job",
    );
  });

  test("a removed allowance cannot be spent; bad allowance arguments are refused", async () => {
    const { alice, escrow } = world;
    onlyEvent(
      await callOk(alice, escrow, {
        method: "remove_allowance",
        args: { spender: agent.accountId, asset: "NEAR" },
      }),
      "allowance_removed",
    );
    await expectRejected(agent, escrow, agentJob(ONE_NEAR), "no allowance");
    await expectRejected(
      alice,
      escrow,
      {
        method: "set_allowance",
        args: { spender: alice.accountId, asset: "NEAR", limit: "1", period_ns: "1" },
      },
      "an owner spends its own balance",
    );
    await expectRejected(
      alice,
      escrow,
      {
        method: "set_allowance",
        args: { spender: agent.accountId, asset: "NEAR", limit: "1", period_ns: "0" },
      },
      "period_ns: must be greater than 0",
    );
    await expectRejected(
      alice,
      escrow,
      {
        method: "set_allowance",
        args: { spender: agent.accountId, asset: "nope.test.near", limit: "1", period_ns: "5" },
      },
      "token nope.test.near is not allowed",
    );
    const result = await callRaw(agent, escrow, { ...agentJob(ONE_NEAR), deposit: ONE_NEAR });
    expect(result.receiptFailureMessages.join("\n")).toContain("takes no deposit");
  });
});
