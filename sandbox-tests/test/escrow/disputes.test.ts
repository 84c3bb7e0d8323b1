/**
 * Disputes: opened by the client within the window only, resolved by the arbiter alone with a
 * split of the escrowed amount, settled as delivered when the arbiter lets the arbitration window
 * pass, and slash requests (an event for the registry's governance).
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  acceptAndDeliver,
  advancePast,
  callOk,
  createNearJob,
  escrowBalance,
  expectRejected,
  jobOf,
  ONE_NEAR,
  onlyEvent,
  PRICE,
  setupWorld,
  totalsOf,
  type World,
} from "./helpers.ts";

let world: World;

beforeAll(async () => {
  world = await setupWorld();
});

afterAll(async () => {
  await world?.worker.tearDown();
});

async function deliveredJob(usage = 10n ** 19n): Promise<string> {
  const created = await createNearJob(world, world.alice, ONE_NEAR);
  await acceptAndDeliver(world, created.id, usage);
  return created.id;
}

describe("opening a dispute", () => {
  test("only the client side, only while delivered and within the window", async () => {
    const { alice, bob, provider, escrow } = world;
    const id = await deliveredJob();
    await expectRejected(
      bob,
      escrow,
      { method: "dispute_job", args: { job_id: id, reason: "wrong output" } },
      "only the job's client or payer",
    );
    await expectRejected(
      alice,
      escrow,
      { method: "dispute_job", args: { job_id: id, reason: "" } },
      "reason: length must be 1 to 512",
    );
    const disputed = onlyEvent(
      await callOk(alice, escrow, {
        method: "dispute_job",
        args: { job_id: id, reason: "wrong output" },
      }),
      "job_disputed",
    );
    expect(disputed).toMatchObject({ status: "disputed", dispute_reason: "wrong output" });
    await expectRejected(
      alice,
      escrow,
      { method: "dispute_job", args: { job_id: id, reason: "again" } },
      "is disputed; dispute needs it delivered",
    );
    await expectRejected(
      alice,
      escrow,
      { method: "confirm_job", args: { job_id: id } },
      "is disputed",
    );
    await expectRejected(
      provider,
      escrow,
      { method: "settle_job", args: { job_id: id } },
      "the arbiter has until",
    );

    const late = await deliveredJob();
    await advancePast(world.worker, BigInt((await jobOf(world, late)).dispute_deadline ?? "0"));
    await expectRejected(
      alice,
      escrow,
      { method: "dispute_job", args: { job_id: late, reason: "too late" } },
      "the dispute window closed",
    );
  });
});

describe("resolution", () => {
  test("the arbiter splits the escrowed amount; nobody else may", async () => {
    const { alice, arbiter, provider, treasury, escrow } = world;
    const id = await deliveredJob();
    await callOk(alice, escrow, {
      method: "dispute_job",
      args: { job_id: id, reason: "half done" },
    });
    const split = { job_id: id, provider_amount: (ONE_NEAR / 4n).toString(), note: "a quarter" };
    for (const caller of [alice, provider, world.gov]) {
      await expectRejected(
        caller,
        escrow,
        { method: "resolve_dispute", args: split },
        "only the arbiter",
      );
    }
    await expectRejected(
      arbiter,
      escrow,
      {
        method: "resolve_dispute",
        args: { ...split, provider_amount: (ONE_NEAR + 1n).toString() },
      },
      "is more than the job's max amount",
    );
    const before = {
      provider: await escrowBalance(world, provider),
      treasury: await escrowBalance(world, treasury),
      alice: await escrowBalance(world, alice),
    };
    const resolved = onlyEvent(
      await callOk(arbiter, escrow, { method: "resolve_dispute", args: split }),
      "dispute_resolved",
    );
    const paid = ONE_NEAR / 4n;
    const fee = (paid * 250n) / 10_000n;
    expect(resolved).toMatchObject({
      status: "resolved",
      resolution_note: "a quarter",
      provider_payout: (paid - fee).toString(),
      fee: fee.toString(),
      client_refund: (ONE_NEAR - paid).toString(),
    });
    expect((await escrowBalance(world, provider)) - before.provider).toBe(paid - fee);
    expect((await escrowBalance(world, treasury)) - before.treasury).toBe(fee);
    expect((await escrowBalance(world, alice)) - before.alice).toBe(ONE_NEAR - paid);
    await expectRejected(
      arbiter,
      escrow,
      { method: "resolve_dispute", args: split },
      "is resolved; resolve needs it disputed",
    );
  });

  test("the arbiter may give everything back to the client", async () => {
    const { alice, arbiter, escrow } = world;
    const id = await deliveredJob();
    await callOk(alice, escrow, { method: "dispute_job", args: { job_id: id, reason: "garbage" } });
    const resolved = onlyEvent(
      await callOk(arbiter, escrow, {
        method: "resolve_dispute",
        args: { job_id: id, provider_amount: "0" },
      }),
      "dispute_resolved",
    );
    expect(resolved).toMatchObject({
      provider_payout: "0",
      fee: "0",
      client_refund: ONE_NEAR.toString(),
    });
  });

  test("an unresolved dispute settles as delivered after the arbitration window", async () => {
    const { alice, bob, escrow } = world;
    const usage = 2n * 10n ** 19n;
    const id = await deliveredJob(usage);
    await callOk(alice, escrow, { method: "dispute_job", args: { job_id: id, reason: "slow" } });
    await advancePast(world.worker, BigInt((await jobOf(world, id)).arbitration_deadline ?? "0"));
    const settled = onlyEvent(
      await callOk(bob, escrow, { method: "settle_job", args: { job_id: id } }),
      "job_settled",
    );
    const due = usage * PRICE;
    expect(settled).toMatchObject({
      settled_by: "arbitration_timeout",
      provider_payout: (due - (due * 250n) / 10_000n).toString(),
      client_refund: (ONE_NEAR - due).toString(),
    });
    expect((await totalsOf(world, "NEAR")).escrowed).toBe(
      // Only jobs still open hold funds.
      (
        await Promise.all(
          ((await escrow.view("jobs", {})) as { status: string; max_amount: string }[])
            .filter((j) => ["requested", "accepted", "delivered", "disputed"].includes(j.status))
            .map((j) => BigInt(j.max_amount)),
        )
      )
        .reduce((a, b) => a + b, 0n)
        .toString(),
    );
  });
});

describe("slash requests", () => {
  test("the arbiter asks once per disputed or resolved job, with an event", async () => {
    const { alice, arbiter, provider, escrow } = world;
    const id = await deliveredJob();
    await expectRejected(
      arbiter,
      escrow,
      { method: "request_slash", args: { job_id: id, reason: "fake results" } },
      "is delivered; request_slash needs it disputed or resolved",
    );
    await callOk(alice, escrow, { method: "dispute_job", args: { job_id: id, reason: "fake" } });
    await expectRejected(
      alice,
      escrow,
      { method: "request_slash", args: { job_id: id, reason: "fake results" } },
      "only the arbiter",
    );
    const event = onlyEvent(
      await callOk(arbiter, escrow, {
        method: "request_slash",
        args: { job_id: id, reason: "fake results" },
      }),
      "slash_requested",
    );
    expect(event).toEqual({
      job_id: id,
      provider: provider.accountId,
      machine_id: world.machine.id,
      arbiter: arbiter.accountId,
      reason: "fake results",
    });
    expect((await jobOf(world, id)).slash_requested).toBe(true);
    await expectRejected(
      arbiter,
      escrow,
      { method: "request_slash", args: { job_id: id, reason: "again" } },
      "a slash was already requested",
    );
  });
});
