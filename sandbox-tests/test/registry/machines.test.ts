/** Registry: challenges, REPORTDATA binding, adding machines with evidence, re-attestation, machine upkeep. */
import { type NearAccount, Worker } from "near-workspaces";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  type AddedMachine,
  addMachine,
  addMachineArgs,
  advancePast,
  balanceOf,
  CHALLENGE_DEPOSIT,
  callOk,
  deployRegistry,
  expectRejected,
  GAS_FEE_BOUND,
  HARDWARE,
  keysetArgs,
  keysetSha256Of,
  MACHINE_DEPOSIT,
  MODELS,
  machineKeyProof,
  newEvidence,
  newKeyset,
  ONE_NEAR,
  onlyEvent,
  proofFor,
  registerProvider,
  reportDataOf,
  requestChallenge,
  SECOND_NS,
  stateOf,
} from "./helpers.ts";

const BYTE_COST = 10n ** 19n;

let worker: Worker;
let root: NearAccount;
let owner: NearAccount;
let alice: NearAccount;
let bob: NearAccount;
let carol: NearAccount;
let registry: NearAccount;
let first: AddedMachine;

interface MachineView {
  id: string;
  provider: string;
  machine_public_key: string;
  encryption_key: string | null;
  keyset_sha256: string | null;
  status: string;
  price_per_unit: string;
  evidence: {
    hash: string;
    size: number;
    nonce: string;
    submitted_at: string;
    keyset_sha256: string | null;
  };
  next_keyset: unknown;
  attestation_state: string;
}

const machine = (id: string): Promise<MachineView | null> =>
  registry.view("machine", { machine_id: id }) as Promise<MachineView | null>;

async function storageUsage(account: NearAccount): Promise<bigint> {
  return BigInt((await account.accountView()).storage_usage);
}

beforeAll(async () => {
  worker = await Worker.init();
  root = worker.rootAccount;
  owner = await root.createSubAccount("gov", { initialBalance: 20n * ONE_NEAR });
  alice = await root.createSubAccount("alice", { initialBalance: 50n * ONE_NEAR });
  bob = await root.createSubAccount("bob", { initialBalance: 50n * ONE_NEAR });
  carol = await root.createSubAccount("carol", { initialBalance: 50n * ONE_NEAR });
  registry = await deployRegistry(root, "registry", owner, owner, {
    min_bond: ONE_NEAR.toString(),
    challenge_ttl_ns: (60n * SECOND_NS).toString(),
    max_evidence_bytes: 2048,
  });
  await registerProvider(registry, alice);
  await registerProvider(registry, bob);
});

afterAll(async () => {
  await worker?.tearDown();
});

describe("request_challenge", () => {
  test("issues a nonce; REPORTDATA is the keyset's sha256 then the nonce", async () => {
    const keyset = newKeyset();
    const before = await balanceOf(alice);
    const result = await callOk(alice, registry, {
      method: "request_challenge",
      args: { machine_public_key: keyset.key.text },
      deposit: CHALLENGE_DEPOSIT,
    });
    const event = onlyEvent(result, "challenge_issued");
    const nonce = event.nonce as string;
    expect(nonce).toMatch(/^[0-9a-f]{64}$/);
    expect(event).toEqual({
      provider: alice.accountId,
      machine_public_key: keyset.key.text,
      nonce,
      expires_at: expect.stringMatching(/^\d+$/),
    });
    expect(result.parseResult()).toEqual(event);
    const keysetSha256 = keysetSha256Of(alice.accountId, registry.accountId, keyset);
    expect(
      await registry.view("report_data", { provider: alice.accountId, ...keysetArgs(keyset) }),
    ).toEqual({ keyset_sha256: keysetSha256, report_data: reportDataOf(keysetSha256, nonce) });
    // Only the challenge's storage was kept; the rest of the deposit came back.
    expect(before - (await balanceOf(alice))).toBeLessThan(CHALLENGE_DEPOSIT);
    // A second request replaces the nonce.
    const again = await requestChallenge(registry, alice, keyset.key);
    expect(again.nonce).not.toBe(nonce);
  });

  test("failures", async () => {
    const keyset = newKeyset();
    const key = keyset.key;
    await expectRejected(
      carol,
      registry,
      {
        method: "request_challenge",
        args: { machine_public_key: key.text },
        deposit: CHALLENGE_DEPOSIT,
      },
      `${carol.accountId} is not a registered provider`,
    );
    await expectRejected(
      alice,
      registry,
      { method: "request_challenge", args: { machine_public_key: key.text } },
      "attached deposit 0 is less than",
    );
    for (const bad of [
      "ed25519:abc",
      "secp256k1:4uQeVj5tqViQh7yWWGStvkEG1Zmhx6uasJtWCJziojk",
      key.text.replace(/.$/, "0"),
    ]) {
      await expectRejected(
        alice,
        registry,
        {
          method: "request_challenge",
          args: { machine_public_key: bad },
          deposit: CHALLENGE_DEPOSIT,
        },
        "machine_public_key: ",
      );
    }
    await expect(
      registry.view("report_data", { provider: alice.accountId, ...keysetArgs(keyset) }),
    ).rejects.toThrow(/no open challenge/);
    await requestChallenge(registry, alice, key);
    await expect(
      registry.view("report_data", { provider: alice.accountId, machine_public_key: key.text }),
    ).rejects.toThrow(/encryption_key: /);
    await expect(
      registry.view("report_data", {
        provider: alice.accountId,
        ...keysetArgs(keyset),
        models: [...MODELS].reverse(),
      }),
    ).rejects.toThrow(/models: names must be unique and sorted/);
  });
});

describe("add_machine", () => {
  test("stores the machine with evidence bound to the consumed challenge", async () => {
    const usageBefore = await storageUsage(registry);
    const balanceBefore = await balanceOf(alice);
    first = await addMachine(registry, alice);
    const event = onlyEvent(first.result, "machine_added");
    expect(first.id).toBe("0");
    const keysetSha256 = keysetSha256Of(alice.accountId, registry.accountId, first.keyset);
    expect(event).toMatchObject({
      id: "0",
      provider: alice.accountId,
      machine_public_key: first.key.text,
      encryption_key: first.keyset.encryptionKey,
      models: MODELS,
      keyset_sha256: keysetSha256,
      tee_type: "tdx",
      hardware: HARDWARE,
      status: "active",
      evidence: {
        hash: first.evidence.hash,
        size: first.evidence.size,
        nonce: first.nonce,
        keyset_sha256: keysetSha256,
      },
      next_keyset: null,
    });
    const { attestation_state, ...stored } = (await machine("0")) as MachineView;
    expect(stored).toEqual(event);
    expect(attestation_state).toBe("pending");
    // The challenge is gone: the nonce cannot be answered twice.
    await expect(
      registry.view("report_data", { provider: alice.accountId, ...keysetArgs(first.keyset) }),
    ).rejects.toThrow(/no open challenge/);
    expect(
      await registry.view("expected_report_data", {
        machine_id: "0",
        evidence_hash: first.evidence.hash,
      }),
    ).toBe(reportDataOf(keysetSha256, first.nonce));
    // The provider paid the storage it added (challenge + machine), plus gas.
    const added = (await storageUsage(registry)) - usageBefore;
    const spent = balanceBefore - (await balanceOf(alice));
    expect(spent).toBeGreaterThan(added * BYTE_COST - 100n * BYTE_COST);
    expect(spent).toBeLessThan(added * BYTE_COST + GAS_FEE_BOUND);
  });

  test("refuses a machine key another machine holds, even with a fresh challenge and its proof", async () => {
    const { nonce } = await requestChallenge(registry, alice, first.key);
    await expectRejected(
      alice,
      registry,
      {
        method: "add_machine",
        args: addMachineArgs(
          newKeyset(first.key),
          newEvidence(),
          "tdx",
          proofFor(registry, alice, first.key, nonce),
        ),
        deposit: MACHINE_DEPOSIT,
      },
      `machine key ${first.key.text} is already registered (machine 0)`,
    );
  });

  test("refuses replayed evidence", async () => {
    const keyset = newKeyset();
    const { nonce } = await requestChallenge(registry, alice, keyset.key);
    await expectRejected(
      alice,
      registry,
      {
        method: "add_machine",
        args: addMachineArgs(
          keyset,
          first.evidence,
          "tdx",
          proofFor(registry, alice, keyset.key, nonce),
        ),
        deposit: MACHINE_DEPOSIT,
      },
      `evidence ${first.evidence.hash} was already submitted`,
    );
  });

  test("refuses a missing, malformed or foreign proof of the machine key", async () => {
    const keyset = newKeyset();
    const { nonce } = await requestChallenge(registry, alice, keyset.key);
    const args = (proof?: string) => addMachineArgs(keyset, newEvidence(), "tdx", proof);
    const call = (proof?: string) => ({
      method: "add_machine",
      args: args(proof),
      deposit: MACHINE_DEPOSIT,
    });
    await expectRejected(alice, registry, call(), "machine_key_signature: required");
    await expectRejected(alice, registry, call("ab".repeat(63)), "machine_key_signature: ");
    // Signed for another provider (bob), or another registry: not a proof for alice here.
    await expectRejected(
      alice,
      registry,
      call(proofFor(registry, bob, keyset.key, nonce)),
      `machine_key_signature: not a signature by ${keyset.key.text}`,
    );
    await expectRejected(
      alice,
      registry,
      call(machineKeyProof(keyset.key, alice.accountId, "other-registry.near", nonce)),
      `machine_key_signature: not a signature by ${keyset.key.text}`,
    );
  });

  test("refuses evidence without a challenge, and after the challenge expired", async () => {
    const keyset = newKeyset();
    await expectRejected(
      alice,
      registry,
      {
        method: "add_machine",
        args: addMachineArgs(keyset, newEvidence(), "tdx", "ab".repeat(64)),
        deposit: MACHINE_DEPOSIT,
      },
      "no open challenge",
    );
    const { expires_at, nonce } = await requestChallenge(registry, alice, keyset.key);
    await advancePast(worker, BigInt(expires_at));
    await expectRejected(
      alice,
      registry,
      {
        method: "add_machine",
        args: addMachineArgs(
          keyset,
          newEvidence(),
          "tdx",
          proofFor(registry, alice, keyset.key, nonce),
        ),
        deposit: MACHINE_DEPOSIT,
      },
      `the challenge for ${keyset.key.text} expired`,
    );
  });

  test.each([
    [
      "an unknown TEE type",
      { tee_type: "sgx" },
      "tee_type: expected one of tdx, sev-snp, none-dev",
    ],
    ["no GPUs", { hardware: { ...HARDWARE, gpus: [] } }, "hardware.gpus: expected 1 to 16 entries"],
    [
      "a bad CC mode",
      { hardware: { ...HARDWARE, gpus: [{ ...HARDWARE.gpus[0], cc_mode: "maybe" }] } },
      "hardware.gpus[0].cc_mode: ",
    ],
    [
      "a zero GPU count",
      { hardware: { ...HARDWARE, gpus: [{ ...HARDWARE.gpus[0], count: 0 }] } },
      "hardware.gpus[0].count: must be between 1 and 64",
    ],
    ["a zero price", { price_per_unit: "0" }, "price_per_unit: must be greater than 0"],
    ["a numeric price", { price_per_unit: 5 }, "price_per_unit: expected a u128 decimal string"],
    ["a price above u128", { price_per_unit: (1n << 128n).toString() }, "does not fit in u128"],
    ["non-base64 evidence", { evidence: "not base64!" }, "evidence: "],
    ["evidence over max_evidence_bytes", { evidence: newEvidence(2049).base64 }, "evidence: "],
    ["an unknown field", { gpu: "H100" }, 'args: unknown field "gpu"'],
    [
      "GPUs in CC devtools mode on a TDX machine",
      { hardware: { ...HARDWARE, gpus: [{ ...HARDWARE.gpus[0], cc_mode: "devtools" }] } },
      'hardware.gpus[0].cc_mode: "devtools" is refused for tee_type tdx',
    ],
    [
      "GPUs in CC devtools mode on a SEV-SNP machine",
      {
        tee_type: "sev-snp",
        hardware: {
          ...HARDWARE,
          gpus: [HARDWARE.gpus[0], { ...HARDWARE.gpus[0], cc_mode: "devtools" }],
        },
      },
      'hardware.gpus[1].cc_mode: "devtools" is refused for tee_type sev-snp',
    ],
    ["no encryption key", { encryption_key: undefined }, "encryption_key: "],
    [
      "an ed25519 key as encryption key",
      { encryption_key: "ed25519:6E8sCci9badyRkXb3JoRpBj5p8C6Tw41ELDZoiihKEtp" },
      'encryption_key: "ed25519:6E8sCci9badyRkXb3JoRpBj5p8C6Tw41ELDZoiihKEtp" is not "x25519:" and 64 lowercase hex digits',
    ],
    [
      "an uppercase encryption key",
      { encryption_key: `x25519:${"AB".repeat(32)}` },
      `encryption_key: "x25519:${"AB".repeat(32)}" is not "x25519:" and 64 lowercase hex digits`,
    ],
    ["no models", { models: undefined }, "models: expected an array"],
    ["an empty model list", { models: [] }, "models: expected 1 to 16 entries, got 0"],
    [
      "17 models",
      {
        models: Array.from({ length: 17 }, (_, i) => ({
          name: `model-${String(i).padStart(2, "0")}`,
          weights_sha256: "ab".repeat(32),
        })),
      },
      "models: expected 1 to 16 entries, got 17",
    ],
    [
      "models out of order",
      { models: [...MODELS].reverse() },
      `models: names must be unique and sorted; "${MODELS[0]?.name}" comes after "${MODELS[1]?.name}"`,
    ],
    [
      "a model listed twice",
      { models: [MODELS[0], MODELS[0]] },
      "models: names must be unique and sorted",
    ],
    [
      "a short weights hash",
      { models: [{ name: "m", weights_sha256: "ab".repeat(31) }] },
      `models[0].weights_sha256: "${"ab".repeat(31)}" is not 64 lowercase hex digits`,
    ],
    [
      "a bad model name",
      { models: [{ name: "-leading-dash", weights_sha256: "ab".repeat(32) }] },
      'models[0].name: "-leading-dash" is not a model name',
    ],
    [
      "a model with an unknown field",
      { models: [{ ...MODELS[0], size: 5 }] },
      'models[0]: unknown field "size"',
    ],
    ["a model that is not an object", { models: ["llama"] }, "models[0]: expected an object"],
  ])("rejects %s", async (_what, override, message) => {
    const keyset = newKeyset();
    const { nonce } = await requestChallenge(registry, alice, keyset.key);
    const proof = proofFor(registry, alice, keyset.key, nonce);
    await expectRejected(
      alice,
      registry,
      {
        method: "add_machine",
        args: { ...addMachineArgs(keyset, newEvidence(), "tdx", proof), ...override },
        deposit: MACHINE_DEPOSIT,
      },
      message,
    );
  });

  test("rejects a short deposit, a non-provider, a paused provider and oversized arguments", async () => {
    const keyset = newKeyset();
    const { nonce } = await requestChallenge(registry, alice, keyset.key);
    const args = addMachineArgs(
      keyset,
      newEvidence(),
      "tdx",
      proofFor(registry, alice, keyset.key, nonce),
    );
    await expectRejected(
      alice,
      registry,
      { method: "add_machine", args, deposit: 1n },
      "attached deposit 1 is less than",
    );
    await expectRejected(
      carol,
      registry,
      { method: "add_machine", args, deposit: MACHINE_DEPOSIT },
      "is not a registered provider",
    );
    await expectRejected(
      alice,
      registry,
      {
        method: "add_machine",
        args: { ...args, evidence: "A".repeat(11000) },
        deposit: MACHINE_DEPOSIT,
      },
      "add_machine: arguments are",
    );
    await callOk(alice, registry, { method: "pause_provider", args: {} });
    await expectRejected(
      alice,
      registry,
      { method: "add_machine", args, deposit: MACHINE_DEPOSIT },
      "is paused; add_machine needs it active",
    );
    await callOk(alice, registry, { method: "resume_provider", args: {} });
  });
});

describe("submit_evidence", () => {
  test("replaces the machine's evidence with one answering a fresh challenge", async () => {
    const { nonce } = await requestChallenge(registry, alice, first.key);
    const evidence = newEvidence(700);
    const result = await callOk(alice, registry, {
      method: "submit_evidence",
      args: { machine_id: first.id, evidence: evidence.base64 },
      deposit: MACHINE_DEPOSIT,
    });
    expect(onlyEvent(result, "evidence_submitted")).toMatchObject({
      machine_id: first.id,
      provider: alice.accountId,
      hash: evidence.hash,
      size: 700,
      nonce,
      keyset_sha256: first.keysetSha256,
      current_keyset: {
        machine_public_key: first.key.text,
        encryption_key: first.keyset.encryptionKey,
        models: MODELS,
        keyset_sha256: first.keysetSha256,
      },
      next_keyset: null,
    });
    expect((await machine(first.id))?.evidence).toMatchObject({
      hash: evidence.hash,
      nonce,
      keyset_sha256: first.keysetSha256,
    });
    expect(
      await registry.view("expected_report_data", {
        machine_id: first.id,
        evidence_hash: evidence.hash,
      }),
    ).toBe(reportDataOf(first.keysetSha256, nonce));
    await expect(
      registry.view("expected_report_data", {
        machine_id: first.id,
        evidence_hash: first.evidence.hash,
      }),
    ).rejects.toThrow(/neither the latest nor the attested evidence/);
  });

  test("failures: replay, no challenge, someone else's machine, unknown or malformed id", async () => {
    await expectRejected(
      alice,
      registry,
      {
        method: "submit_evidence",
        args: { machine_id: first.id, evidence: newEvidence().base64 },
        deposit: MACHINE_DEPOSIT,
      },
      "no open challenge",
    );
    await requestChallenge(registry, alice, first.key);
    await expectRejected(
      alice,
      registry,
      {
        method: "submit_evidence",
        args: { machine_id: first.id, evidence: first.evidence.base64 },
        deposit: MACHINE_DEPOSIT,
      },
      "was already submitted",
    );
    await expectRejected(
      bob,
      registry,
      {
        method: "submit_evidence",
        args: { machine_id: first.id, evidence: newEvidence().base64 },
        deposit: MACHINE_DEPOSIT,
      },
      `only its provider (${alice.accountId}) may call submit_evidence on machine 0`,
    );
    await expectRejected(
      alice,
      registry,
      {
        method: "submit_evidence",
        args: { machine_id: "999", evidence: newEvidence().base64 },
        deposit: MACHINE_DEPOSIT,
      },
      "unknown machine 999",
    );
    await expectRejected(
      alice,
      registry,
      {
        method: "submit_evidence",
        args: { machine_id: 0, evidence: newEvidence().base64 },
        deposit: MACHINE_DEPOSIT,
      },
      "machine_id: expected a u64 decimal string",
    );
  });
});

describe("machine upkeep", () => {
  test("update_machine_price", async () => {
    const result = await callOk(alice, registry, {
      method: "update_machine_price",
      args: { machine_id: first.id, price_per_unit: "2500000000000000000" },
      deposit: MACHINE_DEPOSIT,
    });
    expect(onlyEvent(result, "machine_price_updated")).toMatchObject({
      price_per_unit: "2500000000000000000",
    });
    expect((await machine(first.id))?.price_per_unit).toBe("2500000000000000000");
    await expectRejected(
      bob,
      registry,
      { method: "update_machine_price", args: { machine_id: first.id, price_per_unit: "1" } },
      "only its provider",
    );
    await expectRejected(
      alice,
      registry,
      { method: "update_machine_price", args: { machine_id: first.id, price_per_unit: "01" } },
      "price_per_unit: ",
    );
  });

  test("deactivate and reactivate, each only from the other state", async () => {
    const off = await callOk(alice, registry, {
      method: "deactivate_machine",
      args: { machine_id: first.id },
      deposit: MACHINE_DEPOSIT,
    });
    expect(onlyEvent(off, "machine_deactivated")).toMatchObject({ status: "inactive" });
    await expectRejected(
      alice,
      registry,
      { method: "deactivate_machine", args: { machine_id: first.id } },
      "is already inactive",
    );
    const on = await callOk(alice, registry, {
      method: "reactivate_machine",
      args: { machine_id: first.id },
    });
    expect(onlyEvent(on, "machine_reactivated")).toMatchObject({ status: "active" });
    await expectRejected(
      bob,
      registry,
      { method: "deactivate_machine", args: { machine_id: first.id } },
      "only its provider",
    );
  });

  test("machines view filters by provider and status", async () => {
    const bobs = await addMachine(registry, bob);
    await callOk(bob, registry, {
      method: "deactivate_machine",
      args: { machine_id: bobs.id },
      deposit: MACHINE_DEPOSIT,
    });
    const all = (await registry.view("machines", {})) as MachineView[];
    expect(all.map((m) => m.id)).toEqual([first.id, bobs.id]);
    const ofBob = (await registry.view("machines", { provider: bob.accountId })) as MachineView[];
    expect(ofBob.map((m) => m.id)).toEqual([bobs.id]);
    const active = (await registry.view("machines", { status: "active" })) as MachineView[];
    expect(active.map((m) => m.id)).toEqual([first.id]);
    await expect(registry.view("machines", { status: "broken" })).rejects.toThrow(
      /status: expected one of/,
    );
    expect(await registry.view("machine", { machine_id: "12345" })).toBeNull();
  });

  test("remove_machine refunds the freed storage and frees the key for its holder", async () => {
    const extra = await addMachine(registry, alice);
    await expectRejected(
      bob,
      registry,
      { method: "remove_machine", args: { machine_id: extra.id } },
      "only its provider",
    );
    const usageBefore = await storageUsage(registry);
    const before = await balanceOf(alice);
    const result = await callOk(alice, registry, {
      method: "remove_machine",
      args: { machine_id: extra.id },
    });
    expect(onlyEvent(result, "machine_removed")).toEqual({
      id: extra.id,
      provider: alice.accountId,
      machine_public_key: extra.key.text,
    });
    const freed = usageBefore - (await storageUsage(registry));
    expect(freed).toBeGreaterThan(300n);
    const gained = (await balanceOf(alice)) - before;
    expect(gained).toBeLessThanOrEqual(freed * BYTE_COST);
    expect(gained).toBeGreaterThan(freed * BYTE_COST - GAS_FEE_BOUND);
    expect(await machine(extra.id)).toBeNull();
    expect((await stateOf(registry)).some((line) => line.startsWith(`k:${extra.key.text}=`))).toBe(
      false,
    );
    const again = await addMachine(registry, alice, "tdx", newKeyset(extra.key));
    expect(again.key.text).toBe(extra.key.text);
    expect(again.id).not.toBe(extra.id);
    await expectRejected(
      alice,
      registry,
      { method: "remove_machine", args: { machine_id: extra.id } },
      `unknown machine ${extra.id}`,
    );
  });
});
