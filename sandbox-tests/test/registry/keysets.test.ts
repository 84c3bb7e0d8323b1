/**
 * Registry: machine keysets. REPORTDATA binds the keyset (the verifiers' check refuses evidence
 * made for another keyset, account, registry or challenge), a keyset rotates through
 * submit_evidence (a new key with its proof of possession) and becomes current only once its
 * evidence is verified, a machine's keys stay reserved while it holds them, governance sets the
 * TCB statuses approvals may carry, and GPUs in CC devtools mode are refused for TEE machines.
 */
import { createHash, randomBytes } from "node:crypto";
import {
  checkEvidence,
  DEFAULT_POLICY,
  devReportJson,
  type EvidenceVerdict,
  encodeEvidence,
  keysetSha256,
} from "@gpu-market/verifier";
import { type NearAccount, Worker } from "near-workspaces";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  type AddedMachine,
  addMachine,
  addMachineArgs,
  balanceOf,
  callOk,
  deployRegistry,
  type EvidenceBytes,
  expectRejected,
  HARDWARE,
  isEligible,
  type Keyset,
  keysetArgs,
  keysetSha256Of,
  MACHINE_DEPOSIT,
  MEASUREMENTS,
  MODELS,
  measurementIdOf,
  newEncryptionKey,
  newEvidence,
  newKeyset,
  newMachineKey,
  ONE_NEAR,
  onlyEvent,
  postVerdict,
  proofFor,
  registerProvider,
  reportDataOf,
  requestChallenge,
  stateOf,
  VERDICT_DEPOSIT,
  verdictArgs,
} from "./helpers.ts";

const BYTE_COST = 10n ** 19n;
const PRICE = "1000000000000000000";

let worker: Worker;
let owner: NearAccount;
let alice: NearAccount;
let bob: NearAccount;
let v1: NearAccount;
let registry: NearAccount;

interface KeysetView {
  machine_public_key: string;
  encryption_key: string;
  models: unknown;
  keyset_sha256: string;
}

interface MachineView {
  machine_public_key: string;
  encryption_key: string | null;
  models: unknown;
  keyset_sha256: string | null;
  evidence: { hash: string; nonce: string; keyset_sha256: string | null };
  next_keyset: KeysetView | null;
  attestation_state: string;
}

const machineView = async (id: string): Promise<MachineView> =>
  (await registry.view("machine", { machine_id: id })) as MachineView;

/** The machine record as stored (what its provider paid storage for). */
async function storedMachine(id: string): Promise<string> {
  const entry = (await stateOf(registry)).find((line) => line.startsWith(`m:${id}=`));
  return entry?.slice(`m:${id}=`.length) ?? "";
}

/** How the registry lists a keyset. */
function keysetView(provider: NearAccount, keyset: Keyset): KeysetView {
  return {
    machine_public_key: keyset.key.text,
    encryption_key: keyset.encryptionKey,
    models: keyset.models,
    keyset_sha256: keysetSha256Of(provider.accountId, registry.accountId, keyset),
  };
}

type DevEvidence = EvidenceBytes & { bytes: Uint8Array };

/** What a none-dev machine submits: a dev report stating `reportData` (each one new bytes). */
function devEvidence(reportData: string): DevEvidence {
  const measurements = { ...MEASUREMENTS, rtmr3: randomBytes(48).toString("hex") };
  const bytes = encodeEvidence({ devReport: devReportJson({ reportData, measurements }) });
  const buffer = Buffer.from(bytes);
  return {
    bytes,
    base64: buffer.toString("base64"),
    hash: createHash("sha256").update(buffer).digest("hex"),
    size: bytes.length,
  };
}

/** The verifiers' check of a machine's evidence against the REPORTDATA the registry requires. */
async function verifiersJudge(machineId: string, evidence: DevEvidence): Promise<EvidenceVerdict> {
  const reportData = (await registry.view("expected_report_data", {
    machine_id: machineId,
    evidence_hash: evidence.hash,
  })) as string;
  return checkEvidence(
    evidence.bytes,
    { teeType: "none-dev", reportData, nonce: null },
    {
      rootCa: new Uint8Array(),
      collateral: async () => {
        throw new Error("dev evidence needs no collateral");
      },
      nvidiaJwks: null,
      now: new Date(),
    },
    { ...DEFAULT_POLICY, allowDev: true, requireGpu: false },
  );
}

beforeAll(async () => {
  worker = await Worker.init();
  const root = worker.rootAccount;
  owner = await root.createSubAccount("gov", { initialBalance: 20n * ONE_NEAR });
  alice = await root.createSubAccount("alice", { initialBalance: 50n * ONE_NEAR });
  bob = await root.createSubAccount("bob", { initialBalance: 50n * ONE_NEAR });
  v1 = await root.createSubAccount("v1", { initialBalance: 20n * ONE_NEAR });
  registry = await deployRegistry(root, "registry", owner, owner, {
    min_bond: ONE_NEAR.toString(),
  });
  await callOk(owner, registry, { method: "add_verifier", args: { account_id: v1.accountId } });
  await callOk(owner, registry, {
    method: "allow_measurement",
    args: { measurement_id: measurementIdOf(MEASUREMENTS), label: "keysets" },
  });
  await registerProvider(registry, alice);
  await registerProvider(registry, bob);
});

afterAll(async () => {
  await worker?.tearDown();
});

describe("REPORTDATA binds the keyset", () => {
  test("the verifiers approve evidence for the machine's own keyset and challenge only", async () => {
    const keyset = newKeyset();
    const { nonce } = await requestChallenge(registry, alice, keyset.key);
    const own = keysetSha256Of(alice.accountId, registry.accountId, keyset);
    // The verifier library hashes the keyset as this independent formula (and the registry) do.
    expect(
      keysetSha256({
        account: alice.accountId,
        registry: registry.accountId,
        signing_key: keyset.key.text,
        encryption_key: keyset.encryptionKey,
        models: keyset.models,
      }),
    ).toBe(own);
    const evidence = devEvidence(reportDataOf(own, nonce));
    const added = await callOk(alice, registry, {
      method: "add_machine",
      args: addMachineArgs(
        keyset,
        evidence,
        "none-dev",
        proofFor(registry, alice, keyset.key, nonce),
      ),
      deposit: MACHINE_DEPOSIT,
    });
    const id = added.parseResult<{ id: string }>().id;
    expect(await verifiersJudge(id, evidence)).toMatchObject({ approve: true, tcbStatus: "Dev" });

    const variants: [string, (fresh: string) => string][] = [
      [
        "another encryption key",
        (fresh) =>
          reportDataOf(
            keysetSha256Of(alice.accountId, registry.accountId, {
              ...keyset,
              encryptionKey: newEncryptionKey(),
            }),
            fresh,
          ),
      ],
      [
        "another signing key",
        (fresh) =>
          reportDataOf(
            keysetSha256Of(alice.accountId, registry.accountId, {
              ...keyset,
              key: newMachineKey(),
            }),
            fresh,
          ),
      ],
      [
        "other models",
        (fresh) =>
          reportDataOf(
            keysetSha256Of(alice.accountId, registry.accountId, {
              ...keyset,
              models: [MODELS[0] as (typeof MODELS)[number]],
            }),
            fresh,
          ),
      ],
      [
        "another provider account",
        (fresh) => reportDataOf(keysetSha256Of(bob.accountId, registry.accountId, keyset), fresh),
      ],
      [
        "another registry",
        (fresh) =>
          reportDataOf(keysetSha256Of(alice.accountId, "registry2.test.near", keyset), fresh),
      ],
      ["an earlier challenge", () => reportDataOf(own, nonce)],
    ];
    for (const [what, reportData] of variants) {
      const fresh = (await requestChallenge(registry, alice, keyset.key)).nonce;
      const wrong = devEvidence(reportData(fresh));
      // The registry stores only the hash: judging the bytes is the verifiers' part.
      await callOk(alice, registry, {
        method: "submit_evidence",
        args: { machine_id: id, evidence: wrong.base64 },
        deposit: MACHINE_DEPOSIT,
      });
      const verdict = await verifiersJudge(id, wrong);
      expect(verdict.approve, what).toBe(false);
      expect(verdict.code, what).toBe("report_data_mismatch");
      expect(verdict.reason, what).toContain(`is not the ${reportDataOf(own, fresh)} the registry`);
    }
  });
});

describe("keyset rotation", () => {
  let m: AddedMachine;

  test("a verified machine answers its keyset in is_eligible", async () => {
    m = await addMachine(registry, alice);
    await postVerdict(registry, v1, m.id, m.evidence.hash, true);
    expect(await isEligible(registry, m.id)).toEqual({
      machine_id: m.id,
      eligible: true,
      machine_public_key: m.key.text,
      price_per_unit: PRICE,
      provider: alice.accountId,
      encryption_key: m.keyset.encryptionKey,
      keyset_sha256: m.keysetSha256,
      models: MODELS,
    });
  });

  test("a new keyset comes whole, with its own challenge, validated, under a free key", async () => {
    const next = newKeyset();
    const submit = (args: Record<string, unknown>) => ({
      method: "submit_evidence",
      args: { machine_id: m.id, evidence: newEvidence().base64, ...args },
      deposit: MACHINE_DEPOSIT,
    });
    await requestChallenge(registry, alice, next.key);
    await expectRejected(
      alice,
      registry,
      submit({ machine_public_key: next.key.text, encryption_key: next.encryptionKey }),
      "a new keyset needs machine_public_key, encryption_key and models together; missing models",
    );
    await expectRejected(
      alice,
      registry,
      submit({ models: MODELS }),
      "missing machine_public_key, encryption_key",
    );
    await expectRejected(
      alice,
      registry,
      submit({ ...keysetArgs(next), models: [{ name: "m", weights_sha256: "zz" }] }),
      'models[0].weights_sha256: "zz" is not 64 lowercase hex digits',
    );
    await expectRejected(
      alice,
      registry,
      submit({ ...keysetArgs(next), encryption_key: "x25519:00" }),
      'encryption_key: "x25519:00" is not "x25519:" and 64 lowercase hex digits',
    );
    // The current key's challenge does not vouch for another key.
    const unchallenged = newKeyset();
    await requestChallenge(registry, alice, m.key);
    await expectRejected(
      alice,
      registry,
      submit(keysetArgs(unchallenged)),
      `no open challenge for ${unchallenged.key.text} from ${alice.accountId}`,
    );
    // Another machine's key cannot be taken over.
    const bobs = await addMachine(registry, bob);
    await requestChallenge(registry, alice, bobs.key);
    await expectRejected(
      alice,
      registry,
      submit(keysetArgs(newKeyset(bobs.key))),
      `machine key ${bobs.key.text} is already registered (machine ${bobs.id})`,
    );
  });

  test("the new keyset stays pending while the attested one serves; verification makes it current", async () => {
    const next = newKeyset(newMachineKey(), [MODELS[1] as (typeof MODELS)[number]]);
    const nextView = keysetView(alice, next);
    const { nonce } = await requestChallenge(registry, alice, next.key);
    const evidence = newEvidence();
    // A key new to the machine comes with its proof of possession.
    const submit = (proof?: string) => ({
      method: "submit_evidence",
      args: {
        machine_id: m.id,
        evidence: evidence.base64,
        ...keysetArgs(next),
        ...(proof === undefined ? {} : { machine_key_signature: proof }),
      },
      deposit: MACHINE_DEPOSIT,
    });
    await expectRejected(alice, registry, submit(), "machine_key_signature: required");
    const submitted = await callOk(
      alice,
      registry,
      submit(proofFor(registry, alice, next.key, nonce)),
    );
    expect(onlyEvent(submitted, "evidence_submitted")).toEqual({
      machine_id: m.id,
      provider: alice.accountId,
      hash: evidence.hash,
      size: evidence.size,
      nonce,
      submitted_at: expect.stringMatching(/^\d+$/),
      keyset_sha256: nextView.keyset_sha256,
      current_keyset: keysetView(alice, m.keyset),
      next_keyset: nextView,
    });
    // No downtime: the attested keyset still answers, and escrow would still accept jobs for it.
    const pending = await machineView(m.id);
    expect(pending).toMatchObject({
      machine_public_key: m.key.text,
      encryption_key: m.keyset.encryptionKey,
      keyset_sha256: m.keysetSha256,
      next_keyset: nextView,
      evidence: { hash: evidence.hash, keyset_sha256: nextView.keyset_sha256 },
      attestation_state: "pending",
    });
    expect(await isEligible(registry, m.id)).toMatchObject({
      eligible: true,
      machine_public_key: m.key.text,
      keyset_sha256: m.keysetSha256,
    });
    expect(await registry.view("evidence", { machine_id: m.id })).toMatchObject({
      keyset: nextView,
      attestation: { keyset_sha256: m.keysetSha256 },
    });
    expect(
      await registry.view("expected_report_data", {
        machine_id: m.id,
        evidence_hash: evidence.hash,
      }),
    ).toBe(reportDataOf(nextView.keyset_sha256, nonce));
    // The new key is reserved for this machine from now on, pending as it is.
    await requestChallenge(registry, bob, next.key);
    await expectRejected(
      bob,
      registry,
      {
        method: "add_machine",
        args: addMachineArgs(newKeyset(next.key), newEvidence()),
        deposit: MACHINE_DEPOSIT,
      },
      `machine key ${next.key.text} is already registered (machine ${m.id})`,
    );

    // Verification: the keyset becomes current; the freed bytes go back to the provider.
    const recordBefore = await storedMachine(m.id);
    const aliceBefore = await balanceOf(alice);
    const verdict = await postVerdict(registry, v1, m.id, evidence.hash, true);
    const posted = onlyEvent(verdict, "verdict_posted");
    expect(posted.keyset_activated).toEqual(nextView);
    expect(posted.attestation).toMatchObject({ keyset_sha256: nextView.keyset_sha256 });
    const recordAfter = await storedMachine(m.id);
    // The record sheds the old keyset and the old key's marker goes (key, value, 40 bytes).
    const marker = `k:${m.key.text}`.length + JSON.stringify(m.id).length + 40;
    const freed = BigInt(recordBefore.length - recordAfter.length + marker);
    expect(freed).toBeGreaterThan(100n);
    expect((await balanceOf(alice)) - aliceBefore).toBe(freed * BYTE_COST);
    expect(await stateOf(registry)).not.toContain(`k:${m.key.text}=${JSON.stringify(m.id)}`);
    expect(await machineView(m.id)).toMatchObject({
      machine_public_key: next.key.text,
      encryption_key: next.encryptionKey,
      models: next.models,
      keyset_sha256: nextView.keyset_sha256,
      next_keyset: null,
      attestation_state: "verified",
    });
    expect(await isEligible(registry, m.id)).toEqual({
      machine_id: m.id,
      eligible: true,
      machine_public_key: next.key.text,
      price_per_unit: PRICE,
      provider: alice.accountId,
      encryption_key: next.encryptionKey,
      keyset_sha256: nextView.keyset_sha256,
      models: next.models,
    });
    // The old signing key left the machine's keyset: it is free for whoever holds it (with its
    // proof), while jobs snapshotted under it still verify against their snapshot.
    const taken = await addMachine(registry, bob, "tdx", newKeyset(m.key));
    expect(taken.key.text).toBe(m.key.text);
    m = { ...m, key: next.key, keyset: next, keysetSha256: nextView.keyset_sha256 };
  });

  test("a new encryption key under the same signing key; rejected evidence never makes it current", async () => {
    const next = newKeyset(m.key);
    const nextView = keysetView(alice, next);
    await requestChallenge(registry, alice, m.key);
    const evidence = newEvidence();
    await callOk(alice, registry, {
      method: "submit_evidence",
      args: { machine_id: m.id, evidence: evidence.base64, ...keysetArgs(next) },
      deposit: MACHINE_DEPOSIT,
    });
    expect((await machineView(m.id)).next_keyset).toEqual(nextView);
    const rejected = onlyEvent(
      await postVerdict(registry, v1, m.id, evidence.hash, false, null),
      "verdict_posted",
    );
    expect(rejected).toMatchObject({
      outcome: "rejected",
      attestation_revoked: true,
      keyset_activated: null,
    });
    expect(await machineView(m.id)).toMatchObject({
      encryption_key: m.keyset.encryptionKey,
      keyset_sha256: m.keysetSha256,
      attestation_state: "rejected",
    });
    expect(await isEligible(registry, m.id)).toMatchObject({
      eligible: false,
      reason: `machine ${m.id} has no verified attestation`,
      encryption_key: m.keyset.encryptionKey,
      keyset_sha256: m.keysetSha256,
    });
    // Evidence for the current keyset again (no keyset fields) clears the pending one.
    await requestChallenge(registry, alice, m.key);
    const again = newEvidence();
    await callOk(alice, registry, {
      method: "submit_evidence",
      args: { machine_id: m.id, evidence: again.base64 },
      deposit: MACHINE_DEPOSIT,
    });
    expect((await machineView(m.id)).next_keyset).toBeNull();
    const verified = onlyEvent(
      await postVerdict(registry, v1, m.id, again.hash, true),
      "verdict_posted",
    );
    expect(verified.keyset_activated).toBeNull();
    expect(await isEligible(registry, m.id)).toMatchObject({
      eligible: true,
      keyset_sha256: m.keysetSha256,
    });
  });

  test("a none-dev machine, which nothing verifies, takes a new keyset at once", async () => {
    const dev = await addMachine(registry, alice, "none-dev");
    const next = newKeyset(dev.key);
    await requestChallenge(registry, alice, dev.key);
    const result = await callOk(alice, registry, {
      method: "submit_evidence",
      args: { machine_id: dev.id, evidence: newEvidence().base64, ...keysetArgs(next) },
      deposit: MACHINE_DEPOSIT,
    });
    expect(onlyEvent(result, "evidence_submitted")).toMatchObject({
      current_keyset: keysetView(alice, next),
      next_keyset: null,
    });
    expect(await isEligible(registry, dev.id)).toMatchObject({
      encryption_key: next.encryptionKey,
      keyset_sha256: keysetSha256Of(alice.accountId, registry.accountId, next),
    });
  });
});

describe("allowed_tcb_statuses", () => {
  test("governance sets them; each entry is validated", async () => {
    expect(await registry.view("get_params", {})).toMatchObject({
      allowed_tcb_statuses: ["UpToDate"],
    });
    const allowed = ["UpToDate", "SWHardeningNeeded"];
    const result = await callOk(owner, registry, {
      method: "set_params",
      args: { params: { allowed_tcb_statuses: allowed } },
    });
    expect(onlyEvent(result, "params_updated")).toMatchObject({
      params: { allowed_tcb_statuses: allowed },
    });
    expect(await registry.view("get_params", {})).toMatchObject({ allowed_tcb_statuses: allowed });
    const set = (value: unknown) => ({
      method: "set_params",
      args: { params: { allowed_tcb_statuses: value } },
    });
    await expectRejected(
      alice,
      registry,
      set(["OutOfDate"]),
      `only the owner (${owner.accountId}) may call set_params`,
    );
    await expectRejected(
      owner,
      registry,
      set([]),
      "params.allowed_tcb_statuses: expected 1 to 8 entries, got 0",
    );
    await expectRejected(
      owner,
      registry,
      set("UpToDate"),
      "params.allowed_tcb_statuses: expected an array, got string",
    );
    await expectRejected(
      owner,
      registry,
      set(["UpToDate", "Revoked"]),
      'params.allowed_tcb_statuses[1]: expected one of UpToDate, SWHardeningNeeded, ConfigurationNeeded, ConfigurationAndSWHardeningNeeded, OutOfDate, OutOfDateConfigurationNeeded, TDRelaunchAdvised, TDRelaunchAdvisedConfigurationNeeded, got "Revoked"',
    );
    await expectRejected(
      owner,
      registry,
      set(["UpToDate", "UpToDate"]),
      'params.allowed_tcb_statuses[1]: "UpToDate" is listed twice',
    );
  });

  test("an approval of TEE evidence must carry an allowed status; rejections may carry any", async () => {
    const machine = await addMachine(registry, bob);
    const approve = (status: string) => ({
      method: "post_verdict",
      args: { ...verdictArgs(machine.id, machine.evidence.hash, true), tcb_status: status },
      deposit: VERDICT_DEPOSIT,
    });
    await expectRejected(
      v1,
      registry,
      approve("OutOfDate"),
      "tcb_status: OutOfDate is not in the registry's allowed_tcb_statuses (UpToDate, " +
        "SWHardeningNeeded); evidence with it cannot be approved",
      [bob],
    );
    const ok = onlyEvent(
      await callOk(v1, registry, approve("SWHardeningNeeded")),
      "verdict_posted",
    );
    expect(ok).toMatchObject({ tcb_status: "SWHardeningNeeded", outcome: "verified" });
    // Narrowed again: the next approval with that status is refused, a rejection is not.
    await callOk(owner, registry, {
      method: "set_params",
      args: { params: { allowed_tcb_statuses: ["UpToDate"] } },
    });
    const other = await addMachine(registry, bob);
    await expectRejected(
      v1,
      registry,
      {
        method: "post_verdict",
        args: {
          ...verdictArgs(other.id, other.evidence.hash, true),
          tcb_status: "SWHardeningNeeded",
        },
        deposit: VERDICT_DEPOSIT,
      },
      "tcb_status: SWHardeningNeeded is not in the registry's allowed_tcb_statuses (UpToDate)",
    );
    const rejection = onlyEvent(
      await callOk(v1, registry, {
        method: "post_verdict",
        args: { ...verdictArgs(other.id, other.evidence.hash, false), tcb_status: "OutOfDate" },
        deposit: VERDICT_DEPOSIT,
      }),
      "verdict_posted",
    );
    expect(rejection).toMatchObject({ approve: false, tcb_status: "OutOfDate" });
    // Dev evidence has no Intel TCB status: "Dev" approvals of none-dev machines are accepted.
    const dev = await addMachine(registry, bob, "none-dev");
    const devVerdict = onlyEvent(
      await callOk(v1, registry, {
        method: "post_verdict",
        args: { ...verdictArgs(dev.id, dev.evidence.hash, true), tcb_status: "Dev" },
        deposit: VERDICT_DEPOSIT,
      }),
      "verdict_posted",
    );
    expect(devVerdict).toMatchObject({ tcb_status: "Dev", outcome: "verified" });
  });
});

describe("CC devtools", () => {
  test("GPUs in devtools mode are refused for TEE machines, accepted for none-dev ones", async () => {
    const devtools = { ...HARDWARE, gpus: [{ ...HARDWARE.gpus[0], cc_mode: "devtools" }] };
    for (const tee of ["tdx", "sev-snp"]) {
      const keyset = newKeyset();
      await requestChallenge(registry, alice, keyset.key);
      await expectRejected(
        alice,
        registry,
        {
          method: "add_machine",
          args: { ...addMachineArgs(keyset, newEvidence(), tee), hardware: devtools },
          deposit: MACHINE_DEPOSIT,
        },
        `hardware.gpus[0].cc_mode: "devtools" is refused for tee_type ${tee} (debug tools can ` +
          "read GPU memory); run the GPUs with CC on",
      );
    }
    const keyset = newKeyset();
    const { nonce } = await requestChallenge(registry, alice, keyset.key);
    const proof = proofFor(registry, alice, keyset.key, nonce);
    const added = await callOk(alice, registry, {
      method: "add_machine",
      args: { ...addMachineArgs(keyset, newEvidence(), "none-dev", proof), hardware: devtools },
      deposit: MACHINE_DEPOSIT,
    });
    expect(onlyEvent(added, "machine_added")).toMatchObject({ hardware: devtools });
  });
});
