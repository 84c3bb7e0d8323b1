/**
 * Job creation when the registry says no or cannot answer, or the machine's keyset or models do
 * not fit the request (funds go back), bad and oversized arguments, NEP-145 storage,
 * governance-only methods and parameters, and the upgrade path (jobs of version 1 included).
 */
import { readFileSync } from "node:fs";
import type { NearAccount } from "near-workspaces";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { contractWasm } from "../../src/contracts.ts";
import {
  addDevMachine,
  BYTE_COST,
  balanceOf,
  callOk,
  callRaw,
  createdJob,
  createNearJob,
  deliverArgs,
  eventsOf,
  expectRejected,
  failArgs,
  JOB_STORAGE_FEE,
  jobFields,
  MAX_GAS,
  ONE_NEAR,
  onlyEvent,
  receiptDigest,
  receiptFor,
  SECOND_NS,
  setupWorld,
  sign,
  stateOf,
  TEST_PARAMS,
  totalsOf,
  type World,
} from "./helpers.ts";

const GAS_FEE_BOUND = ONE_NEAR / 100n;
let world: World;

beforeAll(async () => {
  world = await setupWorld();
});

afterAll(async () => {
  await world?.worker.tearDown();
});

function createCall(overrides: Record<string, unknown> = {}, deposit = ONE_NEAR) {
  return {
    method: "create_job",
    args: { ...jobFields(world.machine), ...overrides },
    deposit,
    gas: MAX_GAS,
  };
}

/** create_job went through but the callback refunded: the NEAR came back, no job exists. */
async function expectNearRefund(
  escrow: NearAccount,
  overrides: Record<string, unknown>,
  reason: string | RegExp,
): Promise<void> {
  const { alice } = world;
  const before = await balanceOf(alice);
  const jobsBefore = ((await escrow.view("escrow_info", {})) as { next_job_id: string })
    .next_job_id;
  const result = await callRaw(alice, escrow, createCall(overrides));
  expect(result.failed, result.receiptFailureMessages.join("\n")).toBe(false);
  const events = eventsOf(result);
  expect(events.map((e) => e.event)).toEqual(["job_pending", "job_rejected"]);
  expect(String(events[1]?.data[0]?.reason)).toMatch(reason);
  expect(result.parseResult<{ rejected: boolean }>().rejected).toBe(true);
  const spent = before - (await balanceOf(alice));
  expect(spent).toBeGreaterThan(0n);
  expect(spent).toBeLessThan(GAS_FEE_BOUND);
  expect(((await escrow.view("escrow_info", {})) as { next_job_id: string }).next_job_id).toBe(
    jobsBefore,
  );
  expect((await totalsOf({ ...world, escrow }, "NEAR")).escrowed).toBe("0");
}

describe("the registry decides", () => {
  test("an unknown or inactive machine: the attached NEAR goes back", async () => {
    await expectNearRefund(world.escrow, { machine_id: "999" }, "unknown machine 999");
    const { provider, registry } = world;
    await callOk(provider, registry, {
      method: "deactivate_machine",
      args: { machine_id: world.machine.id },
      deposit: ONE_NEAR / 100n,
    });
    await expectNearRefund(world.escrow, {}, /machine \d+ is inactive/);
    await callOk(provider, registry, {
      method: "reactivate_machine",
      args: { machine_id: world.machine.id },
      deposit: ONE_NEAR / 100n,
    });
  });

  test("a price above max_price_per_unit", async () => {
    await expectNearRefund(
      world.escrow,
      { max_price_per_unit: "999" },
      "above max_price_per_unit 999",
    );
  });

  test("a stale keyset: the machine's keyset changed, encrypt again", async () => {
    await expectNearRefund(
      world.escrow,
      { keyset_sha256: "12".repeat(32) },
      `the machine's keyset changed: machine ${world.machine.id} now attests keyset ${world.machine.keysetSha256}, the request was encrypted to ${"12".repeat(32)}; encrypt again`,
    );
  });

  test("a model the machine does not serve", async () => {
    await expectNearRefund(
      world.escrow,
      { model_hash: "34".repeat(32) },
      `machine ${world.machine.id} does not serve model ${"34".repeat(32)}`,
    );
  });

  test("a machine without an attested keyset", async () => {
    // The machine's record as a registry of state version 1 left it: no keyset.
    const { registry, machine } = world;
    const items = await registry.viewStateRaw();
    const record = items.find((item) => {
      const text = Buffer.from(item.value, "base64").toString();
      return (
        text.includes(`"keyset_sha256":"${machine.keysetSha256}"`) &&
        text.includes(`"id":"${machine.id}"`)
      );
    });
    if (record === undefined) throw new Error("the machine's record was not found in the registry");
    const key = Buffer.from(record.key, "base64").toString();
    const stored = Buffer.from(record.value, "base64").toString();
    const keyless = {
      ...JSON.parse(stored),
      keyset_sha256: null,
      encryption_key: null,
      models: [],
    };
    await registry.patchState(key, JSON.stringify(keyless));
    try {
      await expectNearRefund(world.escrow, {}, /no attested keyset/);
    } finally {
      await registry.patchState(key, stored);
    }
  });

  test("a registry that cannot answer (no contract there): everything goes back", async () => {
    const { root, gov, treasury, arbiter, alice } = world;
    const broken = await root.createSubAccount("escrow-broken", { initialBalance: 30n * ONE_NEAR });
    await broken.deploy(readFileSync(contractWasm("escrow")));
    await callOk(broken, broken, {
      method: "init",
      args: {
        owner: gov.accountId,
        treasury: treasury.accountId,
        arbiter: arbiter.accountId,
        registry: treasury.accountId,
        params: TEST_PARAMS,
      },
    });
    await callOk(alice, broken, { method: "storage_deposit", args: {}, deposit: ONE_NEAR });
    await expectNearRefund(broken, {}, "the registry call failed");
  });
});

describe("arguments", () => {
  test("each bad field is named, and nothing changes", async () => {
    const { alice, escrow } = world;
    const cases: [Record<string, unknown>, string][] = [
      [{ machine_id: "x" }, "machine_id:"],
      [{ machine_id: 1 }, "machine_id: expected a u64 decimal string"],
      [{ model_hash: "AA".repeat(32) }, "model_hash: expected lowercase hex"],
      [{ input_hash: "aa" }, "input_hash: length must be 64 to 64"],
      [{ keyset_sha256: undefined }, "keyset_sha256: expected a string, got undefined"],
      [{ keyset_sha256: "A".repeat(64) }, "keyset_sha256: expected lowercase hex"],
      [{ accept_within_ns: "1" }, "accept_within_ns: must be between"],
      [{ deliver_within_ns: (10n ** 15n).toString() }, "deliver_within_ns: must be between"],
      [{ max_price_per_unit: "-1" }, "max_price_per_unit:"],
      [{ surprise: true }, 'unknown field "surprise"'],
      [{ max_amount: "5" }, "max_amount: 5 differs from the attached deposit"],
      [{ asset: world.usdc.accountId }, "asset: a job paid with attached NEAR is in NEAR"],
    ];
    for (const [overrides, message] of cases) {
      await expectRejected(alice, escrow, createCall(overrides), message);
    }
    await expectRejected(
      alice,
      escrow,
      createCall({}, 0n),
      "attach NEAR, or give asset and max_amount",
    );
    await expectRejected(
      alice,
      escrow,
      createCall({ asset: "NEAR", max_amount: ONE_NEAR.toString() }, 0n),
      "has 0 NEAR credited, less than",
    );
  });

  test("other methods name their bad fields too", async () => {
    const { alice, provider, escrow, arbiter } = world;
    const id = (await createNearJob(world, alice, ONE_NEAR)).id;
    const cases: [typeof alice, string, Record<string, unknown>, string][] = [
      [provider, "accept_job", { job_id: "abc" }, "job_id:"],
      [provider, "accept_job", {}, "job_id: expected a u64 decimal string"],
      [provider, "accept_job", { job_id: "424242" }, "unknown job 424242"],
      [
        provider,
        "deliver_job",
        { job_id: id, result_hash: "cc".repeat(32), signature: "00".repeat(64) },
        'args: unknown field "result_hash"',
      ],
      [provider, "deliver_job", { job_id: id, signature: "00".repeat(64) }, "receipt: expected"],
      [provider, "fail_job", { job_id: id, signature: "00".repeat(64) }, "code: expected one of"],
      [arbiter, "resolve_dispute", { job_id: id, provider_amount: "-5" }, "provider_amount:"],
      [
        alice,
        "dispute_job",
        { job_id: id, reason: "x".repeat(513) },
        "reason: length must be 1 to 512",
      ],
      [
        alice,
        "set_allowance",
        { spender: "Not_An_Account!", asset: "NEAR", limit: "1", period_ns: "1" },
        "spender:",
      ],
    ];
    for (const [caller, method, args, message] of cases) {
      await expectRejected(caller, escrow, { method, args }, message);
    }
    await expectRejected(
      alice,
      escrow,
      { method: "withdraw", args: { asset: "NOT VALID" }, deposit: 1n },
      "asset:",
    );
    await expectRejected(
      alice,
      escrow,
      { method: "accept_job", args: { job_id: "0" }, deposit: 1n },
      "Function is not payable",
    );
  });

  test("oversized arguments are refused before any work", async () => {
    await expectRejected(
      world.alice,
      world.escrow,
      createCall({ model_hash: "a".repeat(5000) }),
      "create_job: arguments are",
    );
    await expect(
      world.escrow.view("jobs_by_client", { account_id: "x".repeat(5000) }),
    ).rejects.toThrow(/arguments are \d+ bytes/);
  });

  test("too little gas for the registry round trip is refused up front", async () => {
    await expectRejected(
      world.alice,
      world.escrow,
      { ...createCall(), gas: 50n * 10n ** 12n },
      "not enough gas",
    );
  });

  test("callbacks are private", async () => {
    const { alice, escrow } = world;
    await expectRejected(
      alice,
      escrow,
      { method: "on_eligibility", args: { request: {} } },
      "Function is private",
    );
    await expectRejected(
      alice,
      escrow,
      { method: "on_withdraw", args: { account_id: alice.accountId, asset: "NEAR", amount: "1" } },
      "Function is private",
    );
  });

  test("a token transfer not from an allowed token is refused", async () => {
    await expectRejected(
      world.alice,
      world.escrow,
      {
        method: "ft_on_transfer",
        args: { sender_id: world.alice.accountId, amount: "100", msg: '{"action":"deposit"}' },
      },
      "token alice.test.near is not allowed",
    );
  });
});

describe("NEP-145 storage", () => {
  test("the flat job fee covers a whole job with 64-character account ids", async () => {
    const { root, registry, escrow, gov } = world;
    const long = (prefix: string) =>
      root.createSubAccount(prefix.padEnd(64 - ".test.near".length, "x"), {
        initialBalance: 100n * ONE_NEAR,
      });
    const provider = await long("provider");
    const client = await long("client");
    const treasury = await long("treasury");
    await callOk(provider, registry, {
      method: "register_provider",
      args: { name: "Long", endpoint: "https://gpu.example.com", region: "eu-west-1" },
      deposit: 3n * ONE_NEAR,
    });
    const machine = await addDevMachine(registry, provider);
    await callOk(gov, escrow, { method: "set_treasury", args: { treasury: treasury.accountId } });
    await callOk(client, escrow, { method: "storage_deposit", args: {}, deposit: ONE_NEAR });
    const before = BigInt((await escrow.accountView()).storage_usage);
    const job = createdJob(
      await callRaw(client, escrow, {
        method: "create_job",
        args: jobFields(machine),
        deposit: ONE_NEAR,
        gas: MAX_GAS,
      }),
    );
    await callOk(provider, escrow, { method: "accept_job", args: { job_id: job.id } });
    // The longest receipt: a 64-character model name and 20-digit counts.
    const receipt = {
      ...receiptFor(world, 0n),
      weights_sha256: job.model_hash,
      model: "m".repeat(64),
      prompt_tokens: "18446744073709551615",
      completion_tokens: "18446744073709551615",
      chunks: "18446744073709551615",
    };
    const signature = sign(machine.keyPair, receiptDigest(escrow.accountId, job.id, receipt));
    await callOk(provider, escrow, {
      method: "deliver_job",
      args: { job_id: job.id, receipt, signature },
    });
    await callOk(client, escrow, { method: "confirm_job", args: { job_id: job.id } });
    const added = BigInt((await escrow.accountView()).storage_usage) - before;
    expect(added * BYTE_COST).toBeLessThanOrEqual(JOB_STORAGE_FEE);
    await callOk(gov, escrow, {
      method: "set_treasury",
      args: { treasury: world.treasury.accountId },
    });
  });

  test("deposit, bounds, withdraw the available part only", async () => {
    const { bob, escrow } = world;
    const bounds = (await escrow.view("storage_balance_bounds", {})) as { min: string };
    expect(BigInt(bounds.min)).toBe(600n * 10n ** 19n);
    const start = (await escrow.view("storage_balance_of", { account_id: bob.accountId })) as {
      total: string;
      available: string;
    };
    expect(BigInt(start.total) - BigInt(start.available)).toBe(BigInt(bounds.min));
    await expectRejected(
      bob,
      escrow,
      { method: "storage_withdraw", args: {} },
      "exactly 1 yoctoNEAR",
    );
    await expectRejected(
      bob,
      escrow,
      { method: "storage_withdraw", args: { amount: start.total }, deposit: 1n },
      "is more than the",
    );
    const before = await balanceOf(bob);
    const withdrawn = onlyEvent(
      await callOk(bob, escrow, { method: "storage_withdraw", args: {}, deposit: 1n }),
      "storage_withdraw",
    );
    expect(withdrawn).toMatchObject({ amount: start.available, available: "0", total: bounds.min });
    expect((await balanceOf(bob)) - before).toBeGreaterThan(
      BigInt(start.available) - GAS_FEE_BOUND,
    );
    // No storage balance left for a job.
    await expectRejected(
      bob,
      escrow,
      { ...createCall(), deposit: ONE_NEAR },
      "needs an available storage balance",
    );
    const dave = await world.root.createSubAccount("dave", { initialBalance: 10n * ONE_NEAR });
    await expectRejected(
      dave,
      escrow,
      { method: "storage_deposit", args: {}, deposit: 1n },
      "less than the registration minimum",
    );
  });
});

describe("governance", () => {
  test("only the owner sets params, arbiter, treasury and tokens", async () => {
    const { alice, escrow } = world;
    const calls = [
      { method: "set_params", args: { params: { fee_bps: 0 } } },
      { method: "set_arbiter", args: { arbiter: alice.accountId } },
      { method: "set_treasury", args: { treasury: alice.accountId } },
      { method: "allow_token", args: { token: alice.accountId } },
      { method: "disallow_token", args: { token: world.usdc.accountId } },
    ];
    for (const call of calls) {
      await expectRejected(
        alice,
        escrow,
        call,
        `only the owner (${world.gov.accountId}) may call ${call.method}`,
      );
    }
  });

  test("params are validated and applied", async () => {
    const { gov, escrow } = world;
    await expectRejected(
      gov,
      escrow,
      { method: "set_params", args: { params: { fee_bps: 10_001 } } },
      "params.fee_bps: must be between 0 and 10000",
    );
    await expectRejected(
      gov,
      escrow,
      { method: "set_params", args: { params: { min_accept_ns: "99999999999999999" } } },
      "min_accept_ns 99999999999999999 exceeds max_accept_ns",
    );
    await expectRejected(
      gov,
      escrow,
      { method: "set_params", args: { params: { dispute_window_ns: "0" } } },
      "must be greater than 0",
    );
    await expectRejected(
      gov,
      escrow,
      { method: "set_params", args: { params: { nope: 1 } } },
      'unknown field "nope"',
    );
    const updated = onlyEvent(
      await callOk(gov, escrow, { method: "set_params", args: { params: { fee_bps: 300 } } }),
      "params_updated",
    );
    expect(updated.params).toEqual({ ...TEST_PARAMS, fee_bps: 300 });
    onlyEvent(
      await callOk(gov, escrow, { method: "set_arbiter", args: { arbiter: world.bob.accountId } }),
      "arbiter_set",
    );
    const info = (await escrow.view("escrow_info", {})) as {
      arbiter: string;
      params: { fee_bps: number };
    };
    expect(info.arbiter).toBe(world.bob.accountId);
    await expectRejected(
      gov,
      escrow,
      { method: "allow_token", args: { token: world.usdc.accountId } },
      "is already allowed",
    );
    expect(await escrow.view("allowed_tokens", {})).toEqual([world.usdc.accountId]);
  });

  test("upgrade: owner only, deploys and migrates in one receipt", async () => {
    const { gov, alice, escrow } = world;
    const wasm = readFileSync(contractWasm("escrow"));
    await expectRejected(
      alice,
      escrow,
      { method: "upgrade", args: new Uint8Array(wasm) },
      "only the owner",
    );
    await expectRejected(
      gov,
      escrow,
      { method: "upgrade", args: new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]) },
      "must be the new contract's wasm",
    );
    await expectRejected(
      alice,
      escrow,
      { method: "migrate", args: {} },
      "may only be called by the escrow itself",
    );
    const before = await stateOf(escrow);
    const result = await callOk(gov, escrow, {
      method: "upgrade",
      args: new Uint8Array(wasm),
      gas: MAX_GAS,
    });
    expect(eventsOf(result).map((e) => e.event)).toEqual([
      "contract_upgrade_started",
      "contract_migrated",
    ]);
    const after = await stateOf(escrow);
    expect(after).toEqual(before);
  });

  test("migrate from version 1: its jobs go on without a keyset (and outside the exposure), old approval requests are refused", async () => {
    const { gov, alice, bob, provider, escrow } = world;
    const raw = async (key: string): Promise<Record<string, unknown>> => {
      const item = (await escrow.viewStateRaw()).find(
        (entry) => Buffer.from(entry.key, "base64").toString() === key,
      );
      if (item === undefined) throw new Error(`no ${key} in the escrow's state`);
      return JSON.parse(Buffer.from(item.value, "base64").toString());
    };
    // A job accepted under version 1, as version 1 stored it (no keyset, no receipt fields).
    const job = await createNearJob(world, alice, ONE_NEAR);
    await callOk(provider, escrow, { method: "accept_job", args: { job_id: job.id } });
    const {
      keyset_sha256: _k,
      encryption_key: _e,
      model_name: _m,
      prompt_tokens: _p,
      completion_tokens: _c,
      chunks: _n,
      failure_code: _f,
      ...v1Job
    } = await raw(`j:${job.id}`);
    await escrow.patchState(`j:${job.id}`, JSON.stringify(v1Job));
    // A version-1 approval request (its request names no keyset).
    await callOk(alice, escrow, {
      method: "set_allowance",
      args: { spender: bob.accountId, asset: "NEAR", limit: "1", period_ns: "1000000000000" },
    });
    const asked = await callOk(bob, escrow, {
      method: "create_job",
      args: { ...jobFields(world.machine), asset: "NEAR", max_amount: "5", payer: alice.accountId },
      gas: MAX_GAS,
    });
    const approval = asked.parseResult<{ id: string; request: Record<string, unknown> }>();
    const { keyset_sha256: _r, ...v1Request } = approval.request;
    await escrow.patchState(
      `q:${approval.id}`,
      JSON.stringify({ ...(await raw(`q:${approval.id}`)), request: v1Request }),
    );
    // A version-2 approval request: no max_price_per_unit (it was optional).
    const asked2 = await callOk(bob, escrow, {
      method: "create_job",
      args: { ...jobFields(world.machine), asset: "NEAR", max_amount: "6", payer: alice.accountId },
      gas: MAX_GAS,
    });
    const approval2 = asked2.parseResult<{ id: string; request: Record<string, unknown> }>();
    await escrow.patchState(
      `q:${approval2.id}`,
      JSON.stringify({
        ...(await raw(`q:${approval2.id}`)),
        request: { ...approval2.request, max_price_per_unit: null },
      }),
    );
    // STATE as version 1 stored it: no exposure_from_job_id, no sessions, no session bounds.
    const {
      exposure_from_job_id: _x,
      next_session_id: _s,
      params: { min_session_ns: _mi, max_session_ns: _ma, ...v1Params },
      ...oldState
    } = (await raw("STATE")) as { params: Record<string, unknown> } & Record<string, unknown>;
    await escrow.patchState("STATE", JSON.stringify({ ...oldState, params: v1Params, version: 1 }));

    const result = await callOk(gov, escrow, {
      method: "upgrade",
      args: new Uint8Array(readFileSync(contractWasm("escrow"))),
      gas: MAX_GAS,
    });
    const migrated = eventsOf(result).find((e) => e.event === "contract_migrated");
    expect(migrated?.data[0]).toEqual({ from_version: 1, to_version: 4 });
    const info = (await escrow.view("escrow_info", {})) as Record<string, unknown>;
    // Sessions start at id 0 with the default lifetime bounds (60 s to 7 days).
    expect(info).toMatchObject({
      version: 4,
      exposure_from_job_id: info.next_job_id,
      next_session_id: "0",
      params: {
        ...v1Params,
        min_session_ns: (60n * SECOND_NS).toString(),
        max_session_ns: (7n * 86_400n * SECOND_NS).toString(),
      },
    });
    const exposureBefore = await escrow.view("provider_exposure", {
      account_id: provider.accountId,
    });

    // The old job reads with the new fields null, and goes on with a version-2 receipt.
    expect(await escrow.view("job", { job_id: job.id })).toMatchObject({
      status: "accepted",
      keyset_sha256: null,
      encryption_key: null,
      model_name: null,
      failure_code: null,
    });
    const delivered = onlyEvent(
      await callOk(provider, escrow, {
        method: "deliver_job",
        args: deliverArgs(world, job.id, 8n),
      }),
      "job_delivered",
    );
    expect(delivered).toMatchObject({ usage: "8", amount_due: "8000", keyset_sha256: null });
    // A job from before version 3 does not count in its provider's exposure.
    expect(await escrow.view("provider_exposure", { account_id: provider.accountId })).toEqual(
      exposureBefore,
    );
    onlyEvent(
      await callOk(alice, escrow, { method: "confirm_job", args: { job_id: job.id } }),
      "job_settled",
    );
    await expectRejected(
      alice,
      escrow,
      { method: "approve_job", args: { approval_id: approval.id }, gas: MAX_GAS },
      `approval request ${approval.id} was made before jobs named the keyset`,
    );
    onlyEvent(
      await callOk(alice, escrow, {
        method: "reject_approval",
        args: { approval_id: approval.id },
      }),
      "approval_rejected",
    );
    await expectRejected(
      alice,
      escrow,
      { method: "approve_job", args: { approval_id: approval2.id }, gas: MAX_GAS },
      `approval request ${approval2.id} was made before jobs named the highest price per unit`,
    );
    // A version-1 job can still be given back by its provider.
    const second = await createNearJob(world, alice, ONE_NEAR);
    const { keyset_sha256: _k2, encryption_key: _e2, ...v1Second } = await raw(`j:${second.id}`);
    await escrow.patchState(`j:${second.id}`, JSON.stringify(v1Second));
    expect(
      onlyEvent(
        await callOk(provider, escrow, { method: "fail_job", args: failArgs(world, second.id) }),
        "job_failed",
      ),
    ).toMatchObject({ keyset_sha256: null, client_refund: ONE_NEAR.toString() });
  });
});
