/** Registry: owner parameters and code upgrades (state preserved, failed migrations rolled back). */
import { readFileSync } from "node:fs";
import { type NearAccount, Worker } from "near-workspaces";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { contractCodeHash, contractWasm } from "../../src/contracts.ts";
import {
  addMachine,
  callOk,
  callRaw,
  deployRegistry,
  eventsOf,
  expectRejected,
  ONE_NEAR,
  onlyEvent,
  registerProvider,
  registryWasm,
  stateOf,
  TGAS,
} from "./helpers.ts";

/** Deploying ~550 KB costs ~40 Tgas; migrate gets at least 30 Tgas plus what is left. */
const UPGRADE_GAS = 200n * TGAS;

let worker: Worker;
let root: NearAccount;
let owner: NearAccount;
let alice: NearAccount;
let registry: NearAccount;

beforeAll(async () => {
  worker = await Worker.init();
  root = worker.rootAccount;
  owner = await root.createSubAccount("gov", { initialBalance: 60n * ONE_NEAR });
  alice = await root.createSubAccount("alice", { initialBalance: 50n * ONE_NEAR });
  registry = await deployRegistry(root, "registry", owner, owner, {
    min_bond: ONE_NEAR.toString(),
  });
  await registerProvider(registry, alice);
  await addMachine(registry, alice);
});

afterAll(async () => {
  await worker?.tearDown();
});

describe("set_params", () => {
  test("the owner updates the given params; each is validated", async () => {
    const result = await callOk(owner, registry, {
      method: "set_params",
      args: { params: { max_evidence_bytes: 16384, challenge_ttl_ns: "600000000000" } },
    });
    const event = onlyEvent(result, "params_updated");
    const params = await registry.view("get_params", {});
    expect(event).toEqual({ params });
    expect(params).toMatchObject({
      max_evidence_bytes: 16384,
      challenge_ttl_ns: "600000000000",
      min_bond: ONE_NEAR.toString(),
    });

    await expectRejected(
      alice,
      registry,
      { method: "set_params", args: { params: { min_bond: "1" } } },
      `only the owner (${owner.accountId}) may call set_params`,
    );
    await expectRejected(
      owner,
      registry,
      { method: "set_params", args: { params: { max_evidence_bytes: 0 } } },
      "params.max_evidence_bytes: must be between 1 and 32768",
    );
    await expectRejected(
      owner,
      registry,
      { method: "set_params", args: { params: { max_evidence_bytes: 40000 } } },
      "params.max_evidence_bytes: must be between 1 and 32768",
    );
    await expectRejected(
      owner,
      registry,
      { method: "set_params", args: { params: { attestation_ttl_ns: "0" } } },
      "params.attestation_ttl_ns: must be greater than 0",
    );
    await expectRejected(
      owner,
      registry,
      { method: "set_params", args: { params: { unbonding_period_ns: "-5" } } },
      "params.unbonding_period_ns: ",
    );
    await expectRejected(
      owner,
      registry,
      { method: "set_params", args: { params: "all" } },
      "params: expected an object, got string",
    );
  });
});

describe("set_escrow", () => {
  test("the owner names the escrow withdraw_bond asks; anyone else is refused", async () => {
    expect(await registry.view("registry_info", {})).toMatchObject({ escrow: null });
    await expectRejected(
      alice,
      registry,
      { method: "set_escrow", args: { escrow: "escrow.test.near" } },
      `only the owner (${owner.accountId}) may call set_escrow`,
    );
    await expectRejected(
      owner,
      registry,
      { method: "set_escrow", args: { escrow: "Escrow!" } },
      "escrow: ",
    );
    await expectRejected(
      owner,
      registry,
      { method: "set_escrow", args: { escrow: "escrow.test.near" }, deposit: 1n },
      "set_escrow takes no deposit",
    );
    const result = await callOk(owner, registry, {
      method: "set_escrow",
      args: { escrow: "escrow.test.near" },
    });
    expect(onlyEvent(result, "escrow_set")).toEqual({ escrow: "escrow.test.near" });
    expect(await registry.view("registry_info", {})).toMatchObject({
      escrow: "escrow.test.near",
    });
  });
});

describe("upgrade", () => {
  test("only the owner may upgrade, with wasm input and no deposit", async () => {
    const wasm = registryWasm();
    await expectRejected(
      alice,
      registry,
      { method: "upgrade", args: wasm },
      `only the owner (${owner.accountId}) may call upgrade`,
    );
    await expectRejected(
      owner,
      registry,
      { method: "upgrade", args: new TextEncoder().encode('{"code":"x"}') },
      "the input must be the new contract's wasm bytes",
    );
    await expectRejected(
      owner,
      registry,
      { method: "upgrade", args: wasm, deposit: 1n },
      "upgrade takes no deposit",
    );
  });

  test("migrate cannot be called from outside", async () => {
    await expectRejected(
      alice,
      registry,
      { method: "migrate", args: {} },
      "migrate may only be called by the registry itself",
    );
    await expectRejected(
      owner,
      registry,
      { method: "migrate", args: {} },
      "migrate may only be called by the registry itself",
    );
  });

  test("redeploys and migrates in one receipt, keeping every record", async () => {
    const before = await stateOf(registry);
    const result = await callRaw(owner, registry, {
      method: "upgrade",
      args: registryWasm(),
      gas: UPGRADE_GAS,
    });
    expect(result.failed, result.receiptFailureMessages.join("\n")).toBe(false);
    expect(eventsOf(result).map((e) => e.event)).toEqual([
      "contract_upgrade_started",
      "contract_migrated",
    ]);
    expect(eventsOf(result)[1]?.data).toEqual([{ from_version: 3, to_version: 3 }]);
    expect((await registry.accountView()).code_hash).toBe(contractCodeHash("registry"));
    expect(await stateOf(registry)).toEqual(before);
    expect((await registry.view("machine", { machine_id: "0" })) as object).toMatchObject({
      provider: alice.accountId,
    });
  });

  test("migrate refuses a state version newer than the code, rolling the deploy back", async () => {
    const raw = (await registry.viewStateRaw()).find(
      (item) => Buffer.from(item.key, "base64").toString() === "STATE",
    );
    const state = JSON.parse(Buffer.from(raw?.value ?? "", "base64").toString()) as object;
    await registry.patchState("STATE", JSON.stringify({ ...state, version: 99 }));
    const before = await stateOf(registry);
    const result = await callRaw(owner, registry, {
      method: "upgrade",
      args: registryWasm(),
      gas: UPGRADE_GAS,
    });
    expect(result.failed).toBe(true);
    expect(result.receiptFailureMessages.join("\n")).toContain(
      "cannot migrate state version 99 to 3",
    );
    expect(await stateOf(registry)).toEqual(before);
    await registry.patchState("STATE", JSON.stringify(state));
    expect(await registry.view("registry_info", {})).toMatchObject({ version: 3 });
  });

  test("a failing migration rolls back the deploy", async () => {
    const before = await stateOf(registry);
    // The probe contract has no migrate method, so the receipt's function call fails.
    const result = await callRaw(owner, registry, {
      method: "upgrade",
      args: readFileSync(contractWasm("probe")),
      gas: UPGRADE_GAS,
    });
    expect(result.failed).toBe(true);
    expect(result.receiptFailureMessages.join("\n")).toMatch(/MethodNotFound|migrate/);
    expect((await registry.accountView()).code_hash).toBe(contractCodeHash("registry"));
    expect(await stateOf(registry)).toEqual(before);
    expect(await registry.view("registry_info", {})).toMatchObject({
      owner: owner.accountId,
      version: 3,
    });
  });
});
