/**
 * Registry: upgrading a registry whose records were stored by state version 1 (before keysets;
 * fixtures/registry-v1-state.json) to the current code. migrate brings STATE to version 3 and
 * leaves the records as they are; version 1 machines read as having no keyset and are ineligible
 * until evidence with a keyset is verified (none-dev machines: submitted).
 */
import { readFileSync } from "node:fs";
import { type NearAccount, Worker } from "near-workspaces";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  addMachine,
  callOk,
  callRaw,
  eventsOf,
  expectRejected,
  isEligible,
  keysetArgs,
  keysetSha256Of,
  MACHINE_DEPOSIT,
  type MachineKey,
  MODELS,
  newEncryptionKey,
  newEvidence,
  newKeyset,
  newMachineKey,
  ONE_NEAR,
  onlyEvent,
  postVerdict,
  registryWasm,
  requestChallenge,
  stateOf,
  TGAS,
} from "./helpers.ts";

interface StateEntry {
  key: string;
  value: string;
}

const V1_STATE = JSON.parse(
  readFileSync(new URL("fixtures/registry-v1-state.json", import.meta.url), "utf8"),
) as StateEntry[];

const recordOf = <T>(key: string): T => {
  const entry = V1_STATE.find((e) => e.key === key);
  if (entry === undefined) throw new Error(`the v1 fixture has no ${key}`);
  return JSON.parse(entry.value) as T;
};

const TDX_MACHINE = recordOf<{ machine_public_key: string; evidence: { hash: string } }>("m:0");
const DEV_MACHINE = recordOf<{ machine_public_key: string }>("m:1");
const V1_PARAMS = recordOf<{ params: Record<string, unknown> }>("STATE").params;

let worker: Worker;
let gov: NearAccount;
let alice: NearAccount;
let v1: NearAccount;
let registry: NearAccount;

/** A machine key whose bytes the registry never needs (only its text is bound). */
const keyOf = (text: string): MachineKey => ({ text, bytes: new Uint8Array(), keyPair: null });

beforeAll(async () => {
  worker = await Worker.init();
  const root = worker.rootAccount;
  // The fixture's accounts: gov, alice (provider), v1 (verifier) and the registry, under test.near.
  gov = await root.createSubAccount("gov", { initialBalance: 20n * ONE_NEAR });
  alice = await root.createSubAccount("alice", { initialBalance: 20n * ONE_NEAR });
  v1 = await root.createSubAccount("v1", { initialBalance: 20n * ONE_NEAR });
  registry = await root.createSubAccount("registry", { initialBalance: 30n * ONE_NEAR });
  expect(recordOf<{ owner: string }>("STATE").owner).toBe(gov.accountId);
  await registry.deploy(registryWasm());
  for (const { key, value } of V1_STATE) {
    await registry.patchState(key, value);
  }
});

afterAll(async () => {
  await worker?.tearDown();
});

describe("migration from state version 1", () => {
  test("upgrade migrates STATE to version 3, adding the default allowed_tcb_statuses and no escrow; records stay", async () => {
    const before = await stateOf(registry);
    const result = await callRaw(gov, registry, {
      method: "upgrade",
      args: registryWasm(),
      gas: 200n * TGAS,
    });
    expect(result.failed, result.receiptFailureMessages.join("\n")).toBe(false);
    expect(eventsOf(result).map((e) => e.event)).toEqual([
      "contract_upgrade_started",
      "contract_migrated",
    ]);
    expect(eventsOf(result)[1]?.data).toEqual([{ from_version: 1, to_version: 3 }]);
    const after = await stateOf(registry);
    expect(after.filter((line) => !line.startsWith("STATE="))).toEqual(
      before.filter((line) => !line.startsWith("STATE=")),
    );
    expect(await registry.view("registry_info", {})).toMatchObject({
      version: 3,
      owner: gov.accountId,
      dev_mode: true,
      next_machine_id: "2",
      escrow: null,
    });
    expect(await registry.view("get_params", {})).toEqual({
      ...V1_PARAMS,
      allowed_tcb_statuses: ["UpToDate"],
    });
  });

  test("version 1 machines read as having no keyset and are ineligible, saying so", async () => {
    expect(await registry.view("machine", { machine_id: "0" })).toMatchObject({
      machine_public_key: TDX_MACHINE.machine_public_key,
      encryption_key: null,
      models: [],
      keyset_sha256: null,
      evidence: { hash: TDX_MACHINE.evidence.hash, keyset_sha256: null },
      next_keyset: null,
    });
    for (const [id, machine] of [
      ["0", TDX_MACHINE],
      ["1", DEV_MACHINE],
    ] as const) {
      expect(await isEligible(registry, id)).toEqual({
        machine_id: id,
        eligible: false,
        reason: `machine ${id} has no attested keyset`,
        machine_public_key: machine.machine_public_key,
        price_per_unit: "1000000000000000000",
        provider: alice.accountId,
        encryption_key: null,
        keyset_sha256: null,
        models: null,
      });
    }
    expect(await registry.view("evidence", { machine_id: "0" })).toMatchObject({
      keyset: null,
      attestation: { evidence_hash: TDX_MACHINE.evidence.hash, keyset_sha256: null },
    });
    await expect(
      registry.view("expected_report_data", {
        machine_id: "0",
        evidence_hash: TDX_MACHINE.evidence.hash,
      }),
    ).rejects.toThrow(/predates keysets: it attests no keyset/);
  });

  test("a version 1 machine gets a keyset through evidence: at once (none-dev) or once verified (tdx)", async () => {
    const tdxKey = keyOf(TDX_MACHINE.machine_public_key);
    await requestChallenge(registry, alice, tdxKey);
    await expectRejected(
      alice,
      registry,
      {
        method: "submit_evidence",
        args: { machine_id: "0", evidence: newEvidence().base64 },
        deposit: MACHINE_DEPOSIT,
      },
      "machine 0 has no keyset yet: give machine_public_key, encryption_key and models with its evidence",
    );
    const tdxKeyset = { key: tdxKey, encryptionKey: newEncryptionKey(), models: MODELS };
    const tdxSha = keysetSha256Of(alice.accountId, registry.accountId, tdxKeyset);
    const evidence = newEvidence();
    const submitted = await callOk(alice, registry, {
      method: "submit_evidence",
      args: { machine_id: "0", evidence: evidence.base64, ...keysetArgs(tdxKeyset) },
      deposit: MACHINE_DEPOSIT,
    });
    expect(onlyEvent(submitted, "evidence_submitted")).toMatchObject({
      keyset_sha256: tdxSha,
      current_keyset: null,
      next_keyset: { machine_public_key: tdxKey.text, keyset_sha256: tdxSha },
    });
    expect(await isEligible(registry, "0")).toMatchObject({
      eligible: false,
      reason: "machine 0 has no attested keyset",
    });
    const verdict = onlyEvent(
      await postVerdict(registry, v1, "0", evidence.hash, true),
      "verdict_posted",
    );
    expect(verdict).toMatchObject({
      outcome: "verified",
      keyset_activated: { keyset_sha256: tdxSha },
      attestation: { keyset_sha256: tdxSha },
    });
    expect(await isEligible(registry, "0")).toEqual({
      machine_id: "0",
      eligible: true,
      machine_public_key: tdxKey.text,
      price_per_unit: "1000000000000000000",
      provider: alice.accountId,
      encryption_key: tdxKeyset.encryptionKey,
      keyset_sha256: tdxSha,
      models: MODELS,
    });

    const devKey = keyOf(DEV_MACHINE.machine_public_key);
    const devKeyset = { key: devKey, encryptionKey: newEncryptionKey(), models: MODELS };
    await requestChallenge(registry, alice, devKey);
    await callOk(alice, registry, {
      method: "submit_evidence",
      args: { machine_id: "1", evidence: newEvidence().base64, ...keysetArgs(devKeyset) },
      deposit: MACHINE_DEPOSIT,
    });
    expect(await isEligible(registry, "1")).toMatchObject({
      eligible: true,
      keyset_sha256: keysetSha256Of(alice.accountId, registry.accountId, devKeyset),
    });
  });
});

describe("migration from state version 2", () => {
  test("STATE gains no escrow; a key marker left by a version 2 rotation reads as free", async () => {
    const v2 = await worker.rootAccount.createSubAccount("registry-v2-state", {
      initialBalance: 30n * ONE_NEAR,
    });
    await v2.deploy(registryWasm());
    await callOk(v2, v2, {
      method: "init",
      args: { owner: gov.accountId, treasury: gov.accountId },
    });
    await callOk(alice, v2, {
      method: "register_provider",
      args: { name: "alice", endpoint: "https://alice.example/v1", region: "eu-west-1" },
      deposit: 3n * ONE_NEAR,
    });
    const machine = await addMachine(v2, alice, "tdx");
    // Version 2 kept a rotated-away key's marker for ever: one that machine 0 no longer holds.
    const rotatedAway = newMachineKey();
    await v2.patchState(`k:${rotatedAway.text}`, JSON.stringify(machine.id));
    const stateEntry = (await v2.viewStateRaw()).find(
      (item) => Buffer.from(item.key, "base64").toString() === "STATE",
    );
    const { escrow: _none, ...v2State } = JSON.parse(
      Buffer.from(stateEntry?.value ?? "", "base64").toString(),
    ) as Record<string, unknown>;
    await v2.patchState("STATE", JSON.stringify({ ...v2State, version: 2 }));
    const result = await callRaw(gov, v2, {
      method: "upgrade",
      args: registryWasm(),
      gas: 200n * TGAS,
    });
    expect(result.failed, result.receiptFailureMessages.join("\n")).toBe(false);
    expect(eventsOf(result)[1]?.data).toEqual([{ from_version: 2, to_version: 3 }]);
    expect(await v2.view("registry_info", {})).toMatchObject({ version: 3, escrow: null });
    const taken = await addMachine(v2, alice, "tdx", newKeyset(rotatedAway));
    expect(taken.key.text).toBe(rotatedAway.text);
    expect(await stateOf(v2)).toContain(`k:${rotatedAway.text}=${JSON.stringify(taken.id)}`);
  });
});
