/** Registry: initialization, provider lifecycle (register, update, pause, retire, unbond), slashing. */
import { type NearAccount, Worker } from "near-workspaces";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  advancePast,
  balanceOf,
  callOk,
  deployRegistry,
  expectRejected,
  GAS_FEE_BOUND,
  MILLI_NEAR,
  ONE_NEAR,
  onlyEvent,
  registerProvider,
  registryWasm,
  SECOND_NS,
} from "./helpers.ts";

const MIN_BOND = 2n * ONE_NEAR;
const UNBONDING_NS = 100n * SECOND_NS;

let worker: Worker;
let root: NearAccount;
let owner: NearAccount;
let treasury: NearAccount;
let alice: NearAccount;
let bob: NearAccount;
let carol: NearAccount;
let registry: NearAccount;

interface ProviderView {
  account_id: string;
  name: string;
  endpoint: string;
  region: string;
  bond: string;
  status: string;
  created_at: string;
  updated_at: string;
  unbonding_ends_at: string | null;
}

const provider = (account: NearAccount): Promise<ProviderView | null> =>
  registry.view("provider", { account_id: account.accountId }) as Promise<ProviderView | null>;

beforeAll(async () => {
  worker = await Worker.init();
  root = worker.rootAccount;
  owner = await root.createSubAccount("gov", { initialBalance: 50n * ONE_NEAR });
  treasury = await root.createSubAccount("treasury", { initialBalance: 10n * ONE_NEAR });
  alice = await root.createSubAccount("alice", { initialBalance: 50n * ONE_NEAR });
  bob = await root.createSubAccount("bob", { initialBalance: 50n * ONE_NEAR });
  carol = await root.createSubAccount("carol", { initialBalance: 50n * ONE_NEAR });
  registry = await deployRegistry(root, "registry", owner, treasury, {
    min_bond: MIN_BOND.toString(),
    unbonding_period_ns: UNBONDING_NS.toString(),
  });
});

afterAll(async () => {
  await worker?.tearDown();
});

describe("init", () => {
  test("records owner, treasury and params (defaults filled in)", async () => {
    const info = (await registry.view("registry_info", {})) as Record<string, unknown>;
    expect(info).toMatchObject({
      version: 3,
      owner: owner.accountId,
      treasury: treasury.accountId,
      threshold: 1,
      verifier_count: 0,
      dev_mode: false,
      next_machine_id: "0",
    });
    expect(await registry.view("get_params", {})).toEqual({
      min_bond: MIN_BOND.toString(),
      unbonding_period_ns: UNBONDING_NS.toString(),
      challenge_ttl_ns: "3600000000000",
      attestation_ttl_ns: "86400000000000",
      max_evidence_bytes: 8192,
      allowed_tcb_statuses: ["UpToDate"],
    });
  });

  test("cannot run twice", async () => {
    await expectRejected(
      alice,
      registry,
      { method: "init", args: { owner: alice.accountId, treasury: alice.accountId } },
      "Contract already initialized",
    );
  });

  test("an uninitialized registry refuses calls and validates init arguments", async () => {
    const fresh = await root.createSubAccount("fresh", { initialBalance: 30n * ONE_NEAR });
    await fresh.deploy(registryWasm());
    await expectRejected(
      alice,
      fresh,
      { method: "pause_provider", args: {} },
      "Contract must be initialized",
    );
    await expectRejected(
      alice,
      fresh,
      { method: "init", args: { owner: "Not An Account", treasury: treasury.accountId } },
      "owner: ",
    );
    await expectRejected(
      alice,
      fresh,
      {
        method: "init",
        args: { owner: owner.accountId, treasury: treasury.accountId, params: { min_bond: "1.5" } },
      },
      "params.min_bond: ",
    );
    await expectRejected(
      alice,
      fresh,
      {
        method: "init",
        args: { owner: owner.accountId, treasury: treasury.accountId, params: { ttl: "1" } },
      },
      'params: unknown field "ttl"',
    );
    const result = await callOk(fresh, fresh, {
      method: "init",
      args: { owner: owner.accountId, treasury: treasury.accountId },
    });
    expect(onlyEvent(result, "registry_initialized")).toMatchObject({
      owner: owner.accountId,
      version: 3,
    });
  });
});

describe("register_provider", () => {
  test("keeps the deposit minus storage as the bond and emits the full record", async () => {
    const aliceBefore = await balanceOf(alice);
    const registryBefore = await balanceOf(registry);
    const deposit = 3n * ONE_NEAR;
    const result = await registerProvider(registry, alice, deposit);
    const event = onlyEvent(result, "provider_registered");
    const stored = await provider(alice);
    expect(event).toEqual(stored);
    expect(stored).toMatchObject({
      account_id: alice.accountId,
      endpoint: "https://gpu.example.com/v1",
      region: "eu-west-1",
      status: "active",
      unbonding_ends_at: null,
    });
    const bond = BigInt(stored?.bond ?? "0");
    const storage = deposit - bond;
    // A provider record and its index entries: a few hundred bytes at 10^19 yocto per byte.
    expect(storage).toBeGreaterThan(100n * 10n ** 19n);
    expect(storage).toBeLessThan(1000n * 10n ** 19n);
    const spent = aliceBefore - (await balanceOf(alice));
    expect(spent - deposit).toBeGreaterThan(0n);
    expect(spent - deposit).toBeLessThan(GAS_FEE_BOUND);
    expect((await balanceOf(registry)) - registryBefore).toBeGreaterThanOrEqual(deposit);
  });

  test("listed by providers, paginated", async () => {
    await registerProvider(registry, bob);
    const all = (await registry.view("providers", {})) as ProviderView[];
    expect(all.map((p) => p.account_id)).toEqual([alice.accountId, bob.accountId]);
    const second = (await registry.view("providers", {
      from_index: 1,
      limit: 1,
    })) as ProviderView[];
    expect(second.map((p) => p.account_id)).toEqual([bob.accountId]);
    await expect(registry.view("providers", { limit: 101 })).rejects.toThrow(
      /limit: must be between 1 and 100/,
    );
    expect(await registry.view("provider", { account_id: "nobody.test.near" })).toBeNull();
  });

  const valid = { name: "Carol GPUs", endpoint: "https://carol.example/v1", region: "us-east-1" };
  test.each([
    ["no deposit", valid, 0n, "the minimum bond is 2000000000000000000000000"],
    ["a deposit short of storage + bond", valid, MIN_BOND, "the minimum bond is"],
    ["an empty name", { ...valid, name: "" }, 3n * ONE_NEAR, "name: length must be 1 to 64"],
    ["a non-URL endpoint", { ...valid, endpoint: "ftp://x" }, 3n * ONE_NEAR, "endpoint: "],
    ["a bad region", { ...valid, region: "EU West" }, 3n * ONE_NEAR, "region: "],
    ["a missing field", { name: "x", endpoint: valid.endpoint }, 3n * ONE_NEAR, "region: required"],
    ["an unknown field", { ...valid, bond: "1" }, 3n * ONE_NEAR, 'args: unknown field "bond"'],
    ["a wrong type", { ...valid, name: 42 }, 3n * ONE_NEAR, "name: expected a string, got number"],
    ["oversized arguments", { ...valid, name: "x".repeat(5000) }, 3n * ONE_NEAR, "arguments are"],
  ])("rejects %s, changing nothing", async (_what, args, deposit, message) => {
    await expectRejected(carol, registry, { method: "register_provider", args, deposit }, message);
  });

  test("rejects a second registration of the same account", async () => {
    await expectRejected(
      alice,
      registry,
      {
        method: "register_provider",
        args: { name: "again", endpoint: "https://a.example", region: "eu-west-1" },
        deposit: 3n * ONE_NEAR,
      },
      `provider ${alice.accountId} is already registered`,
    );
  });
});

describe("update, pause and resume", () => {
  test("update_provider changes the given fields only", async () => {
    const result = await callOk(alice, registry, {
      method: "update_provider",
      args: { endpoint: "http://127.0.0.1:8080/v1" },
      deposit: 10n * MILLI_NEAR,
    });
    const event = onlyEvent(result, "provider_updated");
    expect(event).toMatchObject({ endpoint: "http://127.0.0.1:8080/v1", region: "eu-west-1" });
    expect(await provider(alice)).toEqual(event);
  });

  test("update_provider failures", async () => {
    await expectRejected(
      carol,
      registry,
      { method: "update_provider", args: { name: "x" } },
      "is not a registered provider",
    );
    await expectRejected(
      alice,
      registry,
      { method: "update_provider", args: {} },
      "give at least one of",
    );
    await expectRejected(
      alice,
      registry,
      { method: "update_provider", args: { endpoint: "https://a b" } },
      "endpoint: ",
    );
  });

  test("pause then resume; each only from the other state", async () => {
    onlyEvent(
      await callOk(alice, registry, { method: "pause_provider", args: {} }),
      "provider_paused",
    );
    expect((await provider(alice))?.status).toBe("paused");
    await expectRejected(
      alice,
      registry,
      { method: "pause_provider", args: {} },
      "is paused; pause_provider needs it active",
    );
    onlyEvent(
      await callOk(alice, registry, { method: "resume_provider", args: {} }),
      "provider_resumed",
    );
    await expectRejected(
      alice,
      registry,
      { method: "resume_provider", args: {} },
      "is active; resume_provider needs it paused",
    );
    await expectRejected(
      carol,
      registry,
      { method: "pause_provider", args: {} },
      "is not a registered provider",
    );
    await expectRejected(
      alice,
      registry,
      { method: "pause_provider", args: { now: true } },
      'unknown field "now"',
    );
  });
});

describe("retire and withdraw_bond", () => {
  test("the bond comes back only after the unbonding period", async () => {
    await registerProvider(registry, carol);
    const bond = BigInt((await provider(carol))?.bond ?? "0");
    await expectRejected(
      carol,
      registry,
      { method: "withdraw_bond", args: {} },
      "is active; withdraw_bond needs it retired or slashed",
    );
    const retired = onlyEvent(
      await callOk(carol, registry, {
        method: "retire_provider",
        args: {},
        deposit: 10n * MILLI_NEAR,
      }),
      "provider_retired",
    );
    expect(retired.status).toBe("retired");
    const endsAt = BigInt(retired.unbonding_ends_at as string);
    expect(endsAt).toBe(BigInt(retired.updated_at as string) + UNBONDING_NS);
    await expectRejected(carol, registry, { method: "resume_provider", args: {} }, "is retired");
    await expectRejected(
      carol,
      registry,
      { method: "withdraw_bond", args: {} },
      "is unbonding until",
    );

    await advancePast(worker, endsAt);
    const before = await balanceOf(carol);
    const result = await callOk(carol, registry, { method: "withdraw_bond", args: {} });
    expect(onlyEvent(result, "bond_withdrawn")).toMatchObject({
      amount: bond.toString(),
      bond: "0",
    });
    const gained = (await balanceOf(carol)) - before;
    expect(gained).toBeGreaterThan(bond - GAS_FEE_BOUND);
    expect(gained).toBeLessThanOrEqual(bond);
    await expectRejected(
      carol,
      registry,
      { method: "withdraw_bond", args: {} },
      "has no bond left",
    );
  });
});

describe("slash_provider", () => {
  test("only the owner may slash, without deposit, within the bond", async () => {
    const bond = (await provider(bob))?.bond ?? "0";
    await expectRejected(
      alice,
      registry,
      { method: "slash_provider", args: { provider: bob.accountId, amount: "1", reason: "x" } },
      `only the owner (${owner.accountId}) may call slash_provider`,
      [treasury],
    );
    await expectRejected(
      owner,
      registry,
      {
        method: "slash_provider",
        args: { provider: bob.accountId, amount: "1", reason: "x" },
        deposit: 1n,
      },
      "slash_provider takes no deposit",
      [treasury],
    );
    await expectRejected(
      owner,
      registry,
      {
        method: "slash_provider",
        args: { provider: bob.accountId, amount: (BigInt(bond) + 1n).toString(), reason: "x" },
      },
      "amount: must be between 1 and the bond",
      [treasury],
    );
    await expectRejected(
      owner,
      registry,
      { method: "slash_provider", args: { provider: "ghost.test.near", reason: "x" } },
      "unknown provider ghost.test.near",
      [treasury],
    );
    await expectRejected(
      owner,
      registry,
      { method: "slash_provider", args: { provider: bob.accountId, reason: "" } },
      "reason: length must be 1 to 256",
      [treasury],
    );
  });

  test("moves the amount to the treasury and marks the provider slashed", async () => {
    const bond = BigInt((await provider(bob))?.bond ?? "0");
    const treasuryBefore = await balanceOf(treasury);
    const result = await callOk(owner, registry, {
      method: "slash_provider",
      args: {
        provider: bob.accountId,
        amount: ONE_NEAR.toString(),
        reason: "served forged results",
      },
    });
    const event = onlyEvent(result, "provider_slashed");
    expect(event).toMatchObject({
      account_id: bob.accountId,
      status: "slashed",
      amount: ONE_NEAR.toString(),
      bond: (bond - ONE_NEAR).toString(),
      treasury: treasury.accountId,
      reason: "served forged results",
    });
    expect((await balanceOf(treasury)) - treasuryBefore).toBe(ONE_NEAR);
    expect((await provider(bob))?.status).toBe("slashed");
    await expectRejected(bob, registry, { method: "resume_provider", args: {} }, "is slashed");
    await expectRejected(
      bob,
      registry,
      { method: "withdraw_bond", args: {} },
      "is unbonding until",
    );
  });
});
