/**
 * Escrow findings of the security audit (issue 15), each replayed as the transaction sequence that
 * proved it, with balances checked: a provider paid after losing eligibility (slashed, machine
 * removed, measurement revoked, attestation lapsed), a bond withdrawn while a dispute on its work
 * was open; and the smaller items: create_job without max_price_per_unit, the arbiter resolving
 * after the arbitration deadline.
 */
import type { NearAccount } from "near-workspaces";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { MEASUREMENTS, measurementIdOf, verdictArgs } from "../registry/helpers.ts";
import {
  addDevMachine,
  advancePast,
  balanceOf,
  callOk,
  callRaw,
  createdJob,
  escrowBalance,
  expectRejected,
  type JobView,
  jobFields,
  jobOf,
  MAX_GAS,
  modelOf,
  nowNs,
  ONE_NEAR,
  onlyEvent,
  PRICE,
  RESPONSE_HASH,
  receiptDigest,
  SECOND_NS,
  setupWorld,
  sign,
  type TestMachine,
  TGAS,
  totalsOf,
  type World,
} from "./helpers.ts";

const BOND = 3n * ONE_NEAR;
/** Accept, deliver and reclaim ask the registry; 300 Tgas would need ~50 NEAR of balance up front. */
const GAS = 200n * TGAS;

let world: World;
let v1: NearAccount;

beforeAll(async () => {
  world = await setupWorld();
  v1 = await world.root.createSubAccount("v1", { initialBalance: 20n * ONE_NEAR });
  await callOk(world.gov, world.registry, {
    method: "add_verifier",
    args: { account_id: v1.accountId },
  });
  await callOk(world.gov, world.registry, {
    method: "allow_measurement",
    args: { measurement_id: measurementIdOf(MEASUREMENTS), label: "test image" },
  });
});

afterAll(async () => {
  await world?.worker.tearDown();
});

/** A new provider with one machine (none-dev, or tdx verified by v1) the test signs for. */
async function newProvider(
  name: string,
  teeType = "none-dev",
): Promise<{ account: NearAccount; machine: TestMachine }> {
  const account = await world.root.createSubAccount(name, { initialBalance: 50n * ONE_NEAR });
  await callOk(account, world.registry, {
    method: "register_provider",
    args: { name, endpoint: "https://gpu.example.com/v1", region: "eu-west-1" },
    deposit: BOND,
  });
  const machine = await addDevMachine(world.registry, account, PRICE, teeType);
  if (teeType !== "none-dev") {
    await callOk(v1, world.registry, {
      method: "post_verdict",
      args: verdictArgs(machine.id, machine.evidenceHash, true),
      deposit: ONE_NEAR / 10n,
    });
  }
  return { account, machine };
}

async function createJob(machine: TestMachine, amount = ONE_NEAR): Promise<JobView> {
  const result = await callRaw(world.alice, world.escrow, {
    method: "create_job",
    args: jobFields(machine),
    deposit: amount,
    gas: MAX_GAS,
  });
  return createdJob(result);
}

function deliverArgsFor(machine: TestMachine, jobId: string, usage: bigint) {
  const model = modelOf(machine);
  const receipt = {
    model: model.name,
    weights_sha256: model.weights_sha256,
    request_sha256: "bb".repeat(32),
    response_sha256: RESPONSE_HASH,
    prompt_tokens: (usage / 2n).toString(),
    completion_tokens: (usage - usage / 2n).toString(),
    chunks: "1",
  };
  return {
    job_id: jobId,
    receipt,
    signature: sign(machine.keyPair, receiptDigest(world.escrow.accountId, jobId, receipt)),
  };
}

const accept = (provider: NearAccount, jobId: string) =>
  callOk(provider, world.escrow, {
    method: "accept_job",
    args: { job_id: jobId },
    gas: GAS,
  });

/** Every unit of the job is back with alice (credited), nothing went to the provider. */
async function expectRefunded(jobId: string, provider: NearAccount, aliceBefore: bigint) {
  const job = await jobOf(world, jobId);
  expect(job).toMatchObject({ status: "refunded", provider_payout: "0", fee: "0" });
  expect(await escrowBalance(world, world.alice)).toBe(aliceBefore + BigInt(job.max_amount));
  expect(await escrowBalance(world, provider)).toBe(0n);
  expect((await totalsOf(world, "NEAR")).escrowed).toBe("0");
}

describe("finding: paid after losing eligibility", () => {
  test("a provider slashed after the job was created cannot accept it", async () => {
    const { account: provider, machine } = await newProvider("slashed");
    const job = await createJob(machine);
    await callOk(world.gov, world.registry, {
      method: "slash_provider",
      args: { provider: provider.accountId, amount: ONE_NEAR.toString(), reason: "fraud" },
    });
    await expectRejected(
      provider,
      world.escrow,
      { method: "accept_job", args: { job_id: job.id }, gas: GAS },
      `machine ${machine.id} is not eligible: provider ${provider.accountId} is slashed`,
      [world.alice],
    );
    expect((await jobOf(world, job.id)).status).toBe("requested");
    const before = await escrowBalance(world, world.alice);
    await callOk(world.alice, world.escrow, { method: "cancel_job", args: { job_id: job.id } });
    await expectRefunded(job.id, provider, before);
  });

  test("a machine removed after acceptance cannot deliver; the client reclaims at once", async () => {
    const { account: provider, machine } = await newProvider("remover");
    const job = await createJob(machine);
    await accept(provider, job.id);
    await callOk(provider, world.registry, {
      method: "remove_machine",
      args: { machine_id: machine.id },
    });
    await expectRejected(
      provider,
      world.escrow,
      { method: "deliver_job", args: deliverArgsFor(machine, job.id, 100n), gas: GAS },
      `machine ${machine.id} is not eligible: unknown machine ${machine.id}`,
      [world.alice],
    );
    const before = await escrowBalance(world, world.alice);
    const result = await callOk(world.alice, world.escrow, {
      method: "reclaim_job",
      args: { job_id: job.id },
      gas: GAS,
    });
    expect(onlyEvent(result, "job_reclaimed")).toMatchObject({
      id: job.id,
      refund_reason: "provider_ineligible",
      client_refund: ONE_NEAR.toString(),
    });
    await expectRefunded(job.id, provider, before);
  });

  test("a revoked measurement stops delivery at once; an eligible machine's job cannot be reclaimed early", async () => {
    const { account: provider, machine } = await newProvider("revoked", "tdx");
    const job = await createJob(machine);
    await accept(provider, job.id);
    await expectRejected(
      world.alice,
      world.escrow,
      { method: "reclaim_job", args: { job_id: job.id }, gas: GAS },
      `machine ${machine.id} is eligible: the provider may deliver job ${job.id} until`,
    );
    await callOk(world.gov, world.registry, {
      method: "revoke_measurement",
      args: { measurement_id: measurementIdOf(MEASUREMENTS) },
    });
    try {
      await expectRejected(
        provider,
        world.escrow,
        { method: "deliver_job", args: deliverArgsFor(machine, job.id, 100n), gas: GAS },
        "is not allowlisted",
        [world.alice],
      );
      const before = await escrowBalance(world, world.alice);
      await callOk(world.alice, world.escrow, {
        method: "reclaim_job",
        args: { job_id: job.id },
        gas: GAS,
      });
      await expectRefunded(job.id, provider, before);
    } finally {
      await callOk(world.gov, world.registry, {
        method: "allow_measurement",
        args: { measurement_id: measurementIdOf(MEASUREMENTS), label: "test image" },
      });
    }
  });

  test("an attestation that lapses after acceptance stops delivery; the client reclaims", async () => {
    await callOk(world.gov, world.registry, {
      method: "set_params",
      args: { params: { attestation_ttl_ns: (15n * SECOND_NS).toString() } },
    });
    const { account: provider, machine } = await newProvider("lapsed", "tdx");
    await callOk(world.gov, world.registry, {
      method: "set_params",
      args: { params: { attestation_ttl_ns: (86_400n * SECOND_NS).toString() } },
    });
    const job = await createJob(machine);
    await accept(provider, job.id);
    const evidence = (await world.registry.view("evidence", { machine_id: machine.id })) as {
      attestation: { expires_at: string };
    };
    await advancePast(world.worker, BigInt(evidence.attestation.expires_at));
    await expectRejected(
      provider,
      world.escrow,
      { method: "deliver_job", args: deliverArgsFor(machine, job.id, 100n), gas: GAS },
      `the attestation of machine ${machine.id} expired`,
      [world.alice],
    );
    const before = await escrowBalance(world, world.alice);
    await callOk(world.alice, world.escrow, {
      method: "reclaim_job",
      args: { job_id: job.id },
      gas: GAS,
    });
    await expectRefunded(job.id, provider, before);
  });
});

describe("finding: bond withdrawn during an open dispute", () => {
  test("the bond stays while the provider's delivered work is disputable, and one unbonding period after", async () => {
    const unbonding = 5n * SECOND_NS;
    await callOk(world.gov, world.registry, {
      method: "set_params",
      args: { params: { unbonding_period_ns: unbonding.toString() } },
    });
    expect(await world.registry.view("registry_info", {})).toMatchObject({
      escrow: world.escrow.accountId,
    });
    const { account: provider, machine } = await newProvider("unbonder");
    const job = await createJob(machine);
    await accept(provider, job.id);
    await callOk(provider, world.escrow, {
      method: "deliver_job",
      args: deliverArgsFor(machine, job.id, 100n),
      gas: GAS,
    });
    await callOk(world.alice, world.escrow, {
      method: "dispute_job",
      args: { job_id: job.id, reason: "garbage output" },
    });
    const retired = await callOk(provider, world.registry, {
      method: "retire_provider",
      args: {},
      deposit: ONE_NEAR / 100n,
    });
    const unbondingEnds = BigInt(
      onlyEvent(retired, "provider_retired").unbonding_ends_at as string,
    );
    await advancePast(world.worker, unbondingEnds);
    // Unbonding is over (5 s) long before arbitration can end (20 s): the bond must stay.
    await expectRejected(
      provider,
      world.registry,
      { method: "withdraw_bond", args: {}, gas: GAS },
      `provider ${provider.accountId} has 1 delivered or disputed job on ${world.escrow.accountId}`,
    );
    await callOk(world.arbiter, world.escrow, {
      method: "resolve_dispute",
      args: { job_id: job.id, provider_amount: "0", note: "garbage" },
    });
    await callOk(world.arbiter, world.escrow, {
      method: "request_slash",
      args: { job_id: job.id, reason: "garbage output" },
    });
    // Right after the last job closed, governance still has an unbonding period to slash.
    await expectRejected(
      provider,
      world.registry,
      { method: "withdraw_bond", args: {}, gas: GAS },
      "its last delivered job closed at",
    );
    const bond = BigInt(
      (
        (await world.registry.view("provider", { account_id: provider.accountId })) as {
          bond: string;
        }
      ).bond,
    );
    expect(bond).toBeGreaterThan(ONE_NEAR);
    const treasuryBefore = await balanceOf(world.treasury);
    await callOk(world.gov, world.registry, {
      method: "slash_provider",
      args: { provider: provider.accountId, amount: (bond / 2n).toString(), reason: "garbage" },
    });
    expect((await balanceOf(world.treasury)) - treasuryBefore).toBe(bond / 2n);
    // Slashing restarted unbonding; once it is over the rest is the provider's.
    const slashed = (await world.registry.view("provider", {
      account_id: provider.accountId,
    })) as { unbonding_ends_at: string };
    await advancePast(world.worker, BigInt(slashed.unbonding_ends_at));
    const before = await balanceOf(provider);
    const withdrawn = await callOk(provider, world.registry, {
      method: "withdraw_bond",
      args: {},
      gas: GAS,
    });
    expect(withdrawn.logs.join("\n")).toContain('"event":"bond_withdrawn"');
    const gained = (await balanceOf(provider)) - before;
    expect(gained).toBeGreaterThan(bond - bond / 2n - ONE_NEAR / 100n);
    expect(gained).toBeLessThanOrEqual(bond - bond / 2n);
  });
});

describe("also closed", () => {
  test("create_job without max_price_per_unit is refused: the price a provider may set in the gap is bounded", async () => {
    await expectRejected(
      world.alice,
      world.escrow,
      {
        method: "create_job",
        args: { ...jobFields(world.machine), max_price_per_unit: undefined },
        deposit: ONE_NEAR,
        gas: GAS,
      },
      "max_price_per_unit: required",
    );
  });

  test("the arbiter cannot resolve after the arbitration deadline; settle closes the job", async () => {
    const job = await createJob(world.machine);
    await accept(world.provider, job.id);
    await callOk(world.provider, world.escrow, {
      method: "deliver_job",
      args: deliverArgsFor(world.machine, job.id, 100n),
      gas: GAS,
    });
    const disputed = await callOk(world.alice, world.escrow, {
      method: "dispute_job",
      args: { job_id: job.id, reason: "late" },
    });
    const deadline = BigInt(onlyEvent(disputed, "job_disputed").arbitration_deadline as string);
    await advancePast(world.worker, deadline);
    expect(await nowNs(world.worker)).toBeGreaterThan(deadline);
    await expectRejected(
      world.arbiter,
      world.escrow,
      {
        method: "resolve_dispute",
        args: { job_id: job.id, provider_amount: "0" },
      },
      `job ${job.id}: the arbitration window closed at ${deadline}`,
    );
    const settled = await callOk(world.bob, world.escrow, {
      method: "settle_job",
      args: { job_id: job.id },
    });
    expect(onlyEvent(settled, "job_settled")).toMatchObject({
      settled_by: "arbitration_timeout",
      amount_due: (100n * PRICE).toString(),
    });
  });
});
