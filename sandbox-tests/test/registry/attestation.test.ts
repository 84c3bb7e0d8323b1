/**
 * Registry: verifier set and threshold, verdicts, attestation, allowlist, eligibility (including
 * revocation, verifier removal, expiry, dev mode) and the storage verifiers pay and get back.
 */
import { readFileSync } from "node:fs";
import { type NearAccount, Worker } from "near-workspaces";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { contractWasm } from "../../src/contracts.ts";
import {
  type AddedMachine,
  addMachine,
  advancePast,
  balanceOf,
  callOk,
  deployRegistry,
  type Eligibility,
  expectRejected,
  isEligible,
  MACHINE_DEPOSIT,
  MEASUREMENTS,
  MODELS,
  measurementIdOf,
  newEvidence,
  ONE_NEAR,
  onlyEvent,
  postVerdict,
  registerProvider,
  requestChallenge,
  SECOND_NS,
  TGAS,
  VERDICT_DEPOSIT,
  verdictArgs,
} from "./helpers.ts";

const BYTE_COST = 10n ** 19n;
const VERDICT_FEE = 500n * BYTE_COST;
const ATTESTATION_FEE = 2200n * BYTE_COST;
const TTL_NS = 3600n * SECOND_NS;
const OTHER_MEASUREMENTS = { ...MEASUREMENTS, rtmr3: "ee".repeat(48) };
const MEASUREMENT_ID = measurementIdOf(MEASUREMENTS);

let worker: Worker;
let root: NearAccount;
let owner: NearAccount;
let alice: NearAccount;
let v1: NearAccount;
let v2: NearAccount;
let v3: NearAccount;
let registry: NearAccount;
let m: AddedMachine;

interface AttestationView {
  evidence_hash: string;
  measurement_id: string;
  approvers: string[];
  verified_at: string;
  expires_at: string;
  paid_by: string;
}

const attestationOf = async (id: string): Promise<AttestationView | null> =>
  ((await registry.view("evidence", { machine_id: id })) as { attestation: AttestationView | null })
    .attestation;

const stateOfMachine = async (id: string): Promise<string> =>
  ((await registry.view("machine", { machine_id: id })) as { attestation_state: string })
    .attestation_state;

async function expectIneligible(id: string, reason: string | RegExp): Promise<void> {
  const answer = await isEligible(registry, id);
  expect(answer.eligible).toBe(false);
  expect(answer.reason).toMatch(reason);
}

async function submitNewEvidence(machine: AddedMachine): Promise<string> {
  await requestChallenge(registry, alice, machine.key);
  const evidence = newEvidence();
  await callOk(alice, registry, {
    method: "submit_evidence",
    args: { machine_id: machine.id, evidence: evidence.base64 },
    deposit: MACHINE_DEPOSIT,
  });
  return evidence.hash;
}

beforeAll(async () => {
  worker = await Worker.init();
  root = worker.rootAccount;
  owner = await root.createSubAccount("gov", { initialBalance: 20n * ONE_NEAR });
  alice = await root.createSubAccount("alice", { initialBalance: 50n * ONE_NEAR });
  v1 = await root.createSubAccount("v1", { initialBalance: 20n * ONE_NEAR });
  v2 = await root.createSubAccount("v2", { initialBalance: 20n * ONE_NEAR });
  v3 = await root.createSubAccount("v3", { initialBalance: 20n * ONE_NEAR });
  registry = await deployRegistry(root, "registry", owner, owner, {
    min_bond: ONE_NEAR.toString(),
    attestation_ttl_ns: TTL_NS.toString(),
  });
  await registerProvider(registry, alice);
  m = await addMachine(registry, alice);
});

afterAll(async () => {
  await worker?.tearDown();
});

describe("verifier set", () => {
  test("only the owner adds verifiers; duplicates and bad ids are refused", async () => {
    await expectRejected(
      alice,
      registry,
      { method: "add_verifier", args: { account_id: v1.accountId } },
      `only the owner (${owner.accountId}) may call add_verifier`,
    );
    for (const v of [v1, v2, v3]) {
      const event = onlyEvent(
        await callOk(owner, registry, {
          method: "add_verifier",
          args: { account_id: v.accountId },
        }),
        "verifier_added",
      );
      expect(event.verifier).toBe(v.accountId);
    }
    await expectRejected(
      owner,
      registry,
      { method: "add_verifier", args: { account_id: v1.accountId } },
      "is already a verifier",
    );
    await expectRejected(
      owner,
      registry,
      { method: "add_verifier", args: { account_id: "V1" } },
      "account_id: ",
    );
    expect(await registry.view("get_verifiers", {})).toEqual({
      verifiers: [v1.accountId, v2.accountId, v3.accountId],
      threshold: 1,
    });
    expect(await registry.view("get_verifiers", { from_index: 2, limit: 1 })).toEqual({
      verifiers: [v3.accountId],
      threshold: 1,
    });
  });

  test("threshold k must satisfy 1 <= k <= n", async () => {
    await expectRejected(
      owner,
      registry,
      { method: "set_threshold", args: { threshold: 0 } },
      "threshold: must be between 1 and 3",
    );
    await expectRejected(
      owner,
      registry,
      { method: "set_threshold", args: { threshold: 4 } },
      "threshold: must be between 1 and 3",
    );
    await expectRejected(
      v1,
      registry,
      { method: "set_threshold", args: { threshold: 2 } },
      "only the owner",
    );
    const event = onlyEvent(
      await callOk(owner, registry, { method: "set_threshold", args: { threshold: 2 } }),
      "threshold_set",
    );
    expect(event.threshold).toBe(2);
  });
});

describe("post_verdict", () => {
  test("failures: non-verifier, stale evidence, unknown machine, bad measurements, no deposit", async () => {
    const args = verdictArgs(m.id, m.evidence.hash, true);
    await expectRejected(
      alice,
      registry,
      { method: "post_verdict", args, deposit: VERDICT_DEPOSIT },
      `only verifiers may post verdicts; ${alice.accountId} is not one`,
    );
    await expectRejected(
      v1,
      registry,
      {
        method: "post_verdict",
        args: verdictArgs(m.id, "ab".repeat(32), true),
        deposit: VERDICT_DEPOSIT,
      },
      "is not the latest evidence of machine",
    );
    await expectRejected(
      v1,
      registry,
      {
        method: "post_verdict",
        args: verdictArgs("77", m.evidence.hash, true),
        deposit: VERDICT_DEPOSIT,
      },
      "unknown machine 77",
    );
    await expectRejected(
      v1,
      registry,
      {
        method: "post_verdict",
        args: verdictArgs(m.id, m.evidence.hash, true, null),
        deposit: VERDICT_DEPOSIT,
      },
      "measurements: required when approving",
    );
    await expectRejected(
      v1,
      registry,
      {
        method: "post_verdict",
        args: verdictArgs(m.id, m.evidence.hash, true, { ...MEASUREMENTS, mrtd: "AB".repeat(48) }),
        deposit: VERDICT_DEPOSIT,
      },
      "measurements.mrtd: ",
    );
    await expectRejected(
      v1,
      registry,
      {
        method: "post_verdict",
        args: { ...args, tcb_status: "up to date" },
        deposit: VERDICT_DEPOSIT,
      },
      "tcb_status: ",
    );
    await expectRejected(
      v1,
      registry,
      { method: "post_verdict", args },
      "attached deposit 0 is less than",
    );
  });

  test("k approvals with identical measurements verify; mismatching ones do not count together", async () => {
    const first = onlyEvent(
      await postVerdict(registry, v1, m.id, m.evidence.hash, true),
      "verdict_posted",
    );
    expect(first).toMatchObject({
      outcome: "pending",
      approvals: 1,
      rejections: 0,
      attestation: null,
      measurement_id: MEASUREMENT_ID,
    });
    await expectIneligible(m.id, /has no verified attestation/);
    await expectRejected(
      v1,
      registry,
      {
        method: "post_verdict",
        args: verdictArgs(m.id, m.evidence.hash, true),
        deposit: VERDICT_DEPOSIT,
      },
      `${v1.accountId} already posted a verdict`,
    );
    const second = onlyEvent(
      await postVerdict(registry, v2, m.id, m.evidence.hash, true, OTHER_MEASUREMENTS),
      "verdict_posted",
    );
    expect(second).toMatchObject({ outcome: "pending", approvals: 2 });
    expect(await stateOfMachine(m.id)).toBe("pending");

    const v3Before = await balanceOf(v3);
    const third = onlyEvent(
      await postVerdict(registry, v3, m.id, m.evidence.hash, true),
      "verdict_posted",
    );
    expect(third.outcome).toBe("verified");
    const attestation = third.attestation as AttestationView;
    expect(attestation).toMatchObject({
      evidence_hash: m.evidence.hash,
      measurement_id: MEASUREMENT_ID,
      approvers: [v1.accountId, v3.accountId],
      paid_by: v3.accountId,
    });
    expect(BigInt(attestation.expires_at) - BigInt(attestation.verified_at)).toBe(TTL_NS);
    expect(await attestationOf(m.id)).toEqual(attestation);
    expect(await stateOfMachine(m.id)).toBe("verified");
    // The completing verifier paid the fixed verdict and attestation fees (and gas).
    const spent = v3Before - (await balanceOf(v3));
    expect(spent).toBeGreaterThan(VERDICT_FEE + ATTESTATION_FEE);
    expect(spent).toBeLessThan(VERDICT_FEE + ATTESTATION_FEE + ONE_NEAR / 100n);
    await expectRejected(
      v2,
      registry,
      {
        method: "post_verdict",
        args: verdictArgs(m.id, m.evidence.hash, false),
        deposit: VERDICT_DEPOSIT,
      },
      "is already verified",
    );
  });
});

describe("allowlist and eligibility", () => {
  test("measurement_id view matches the canonical JSON hash", async () => {
    expect(await registry.view("measurement_id", { measurements: MEASUREMENTS })).toBe(
      MEASUREMENT_ID,
    );
    await expect(
      registry.view("measurement_id", { measurements: { ...MEASUREMENTS, extra: "1" } }),
    ).rejects.toThrow(/unknown field \W*extra/);
  });

  test("verified but not allowlisted is ineligible; allowlisting makes it eligible", async () => {
    await expectIneligible(m.id, `measurement ${MEASUREMENT_ID} is not allowlisted`);
    await expectRejected(
      alice,
      registry,
      { method: "allow_measurement", args: { measurement_id: MEASUREMENT_ID, label: "x" } },
      "only the owner",
    );
    await expectRejected(
      owner,
      registry,
      { method: "allow_measurement", args: { measurement_id: "xyz", label: "x" } },
      "measurement_id: ",
    );
    const event = onlyEvent(
      await callOk(owner, registry, {
        method: "allow_measurement",
        args: { measurement_id: MEASUREMENT_ID, label: "vllm 0.6 on TDX guest 2025-01" },
      }),
      "measurement_allowed",
    );
    expect(event).toMatchObject({
      measurement_id: MEASUREMENT_ID,
      label: "vllm 0.6 on TDX guest 2025-01",
    });
    await expectRejected(
      owner,
      registry,
      { method: "allow_measurement", args: { measurement_id: MEASUREMENT_ID, label: "again" } },
      "is already allowlisted",
    );
    expect(await isEligible(registry, m.id)).toEqual({
      machine_id: m.id,
      eligible: true,
      machine_public_key: m.key.text,
      price_per_unit: "1000000000000000000",
      provider: alice.accountId,
      encryption_key: m.keyset.encryptionKey,
      keyset_sha256: m.keysetSha256,
      models: MODELS,
    });
    expect(
      ((await registry.view("allowlist", {})) as { measurement_id: string }[]).map(
        (e) => e.measurement_id,
      ),
    ).toEqual([MEASUREMENT_ID]);
  });

  test("revoking the measurement makes the machine ineligible at once", async () => {
    onlyEvent(
      await callOk(owner, registry, {
        method: "revoke_measurement",
        args: { measurement_id: MEASUREMENT_ID },
      }),
      "measurement_revoked",
    );
    await expectIneligible(m.id, "is not allowlisted");
    await expectRejected(
      owner,
      registry,
      { method: "revoke_measurement", args: { measurement_id: MEASUREMENT_ID } },
      "is not allowlisted",
    );
    await callOk(owner, registry, {
      method: "allow_measurement",
      args: { measurement_id: MEASUREMENT_ID, label: "back" },
    });
    expect((await isEligible(registry, m.id)).eligible).toBe(true);
  });

  test("removing a verifier drops its approval from the count at once", async () => {
    onlyEvent(
      await callOk(owner, registry, {
        method: "remove_verifier",
        args: { account_id: v3.accountId },
      }),
      "verifier_removed",
    );
    await expectIneligible(m.id, "1 approvals by current verifiers, fewer than 2");
    await callOk(owner, registry, { method: "add_verifier", args: { account_id: v3.accountId } });
    expect((await isEligible(registry, m.id)).eligible).toBe(true);
    await callOk(owner, registry, { method: "set_threshold", args: { threshold: 3 } });
    await expectRejected(
      owner,
      registry,
      { method: "remove_verifier", args: { account_id: v3.accountId } },
      "fewer than the threshold 3; lower the threshold first",
    );
    await expectIneligible(m.id, "2 approvals by current verifiers, fewer than 3");
    await callOk(owner, registry, { method: "set_threshold", args: { threshold: 2 } });
    await expectRejected(
      owner,
      registry,
      { method: "remove_verifier", args: { account_id: "nobody.test.near" } },
      "is not a verifier",
    );
  });

  test("provider and machine status gate eligibility", async () => {
    await callOk(alice, registry, {
      method: "deactivate_machine",
      args: { machine_id: m.id },
      deposit: MACHINE_DEPOSIT,
    });
    await expectIneligible(m.id, `machine ${m.id} is inactive`);
    await callOk(alice, registry, { method: "reactivate_machine", args: { machine_id: m.id } });
    await callOk(alice, registry, { method: "pause_provider", args: {} });
    await expectIneligible(m.id, `provider ${alice.accountId} is paused`);
    await callOk(alice, registry, { method: "resume_provider", args: {} });
    expect((await isEligible(registry, m.id)).eligible).toBe(true);
  });
});

describe("re-attestation and rejection", () => {
  test("new evidence keeps the machine eligible on its previous attestation; verdict fees come back", async () => {
    const before = await Promise.all([v1, v2, v3].map(balanceOf));
    const hash = await submitNewEvidence(m);
    // The verdicts on the old evidence were released: each verifier got its fixed fee back.
    const after = await Promise.all([v1, v2, v3].map(balanceOf));
    expect(after.map((b, i) => b - (before[i] ?? 0n))).toEqual([
      VERDICT_FEE,
      VERDICT_FEE,
      VERDICT_FEE,
    ]);
    expect(await stateOfMachine(m.id)).toBe("pending");
    expect((await isEligible(registry, m.id)).eligible).toBe(true);

    await postVerdict(registry, v1, m.id, hash, true);
    const v3Before = await balanceOf(v3);
    const verified = onlyEvent(await postVerdict(registry, v2, m.id, hash, true), "verdict_posted");
    expect(verified.outcome).toBe("verified");
    // The old attestation's payer (v3) got its fixed fee back when the new one replaced it.
    expect((await balanceOf(v3)) - v3Before).toBe(ATTESTATION_FEE);
    expect((await attestationOf(m.id))?.evidence_hash).toBe(hash);
    expect((await isEligible(registry, m.id)).eligible).toBe(true);
  });

  test("k rejections reject the evidence and revoke the attestation", async () => {
    const hash = await submitNewEvidence(m);
    const reject1 = onlyEvent(
      await postVerdict(registry, v1, m.id, hash, false, null),
      "verdict_posted",
    );
    expect(reject1).toMatchObject({
      outcome: "pending",
      rejections: 1,
      attestation_revoked: false,
    });
    expect((await isEligible(registry, m.id)).eligible).toBe(true);
    const reject2 = onlyEvent(
      await postVerdict(registry, v3, m.id, hash, false, null),
      "verdict_posted",
    );
    expect(reject2).toMatchObject({
      outcome: "rejected",
      rejections: 2,
      attestation_revoked: true,
    });
    expect(await stateOfMachine(m.id)).toBe("rejected");
    await expectIneligible(m.id, "has no verified attestation");
    await expectRejected(
      v2,
      registry,
      { method: "post_verdict", args: verdictArgs(m.id, hash, true), deposit: VERDICT_DEPOSIT },
      "is already rejected",
    );
    // Re-attest so later tests start from an eligible machine.
    const fresh = await submitNewEvidence(m);
    await postVerdict(registry, v1, m.id, fresh, true);
    await postVerdict(registry, v2, m.id, fresh, true);
    expect((await isEligible(registry, m.id)).eligible).toBe(true);
  });
});

describe("dev mode and batches", () => {
  test("none-dev machines are eligible only in dev mode, and then without verdicts", async () => {
    const dev = await addMachine(registry, alice, "none-dev");
    await expectIneligible(dev.id, "none-dev machines are eligible only in dev mode");
    await expectRejected(
      alice,
      registry,
      { method: "set_dev_mode", args: { enabled: true } },
      "only the owner",
    );
    await expectRejected(
      owner,
      registry,
      { method: "set_dev_mode", args: { enabled: "yes" } },
      "enabled: expected a boolean",
    );
    onlyEvent(
      await callOk(owner, registry, { method: "set_dev_mode", args: { enabled: true } }),
      "dev_mode_set",
    );
    expect((await isEligible(registry, dev.id)).eligible).toBe(true);
    const answers = (await registry.view("are_eligible", {
      machine_ids: [m.id, dev.id, "999"],
    })) as Eligibility[];
    expect(answers.map((a) => [a.machine_id, a.eligible])).toEqual([
      [m.id, true],
      [dev.id, true],
      ["999", false],
    ]);
    expect(answers[2]?.reason).toBe("unknown machine 999");
    await callOk(owner, registry, { method: "set_dev_mode", args: { enabled: false } });
    await expectIneligible(dev.id, "only in dev mode");
  });

  test("is_eligible answers a cross-contract call (as escrow makes it)", async () => {
    const caller = await root.createSubAccount("caller", { initialBalance: 30n * ONE_NEAR });
    await caller.deploy(readFileSync(contractWasm("probe")));
    await callOk(alice, caller, {
      method: "call_other",
      args: {
        account: registry.accountId,
        method: "is_eligible",
        args: { machine_id: m.id },
        gas: (30n * TGAS).toString(),
      },
    });
    const last = (await caller.view("get_last_result", {})) as { success: boolean; value: string };
    expect(last.success).toBe(true);
    expect(JSON.parse(last.value)).toEqual(await isEligible(registry, m.id));
    expect(JSON.parse(last.value)).toMatchObject({ eligible: true, provider: alice.accountId });
  });

  test("are_eligible bounds its batch and validates ids", async () => {
    const many = Array.from({ length: 51 }, (_, i) => String(i));
    await expect(registry.view("are_eligible", { machine_ids: many })).rejects.toThrow(
      /machine_ids: expected 1 to 50 entries/,
    );
    await expect(registry.view("are_eligible", { machine_ids: ["-1"] })).rejects.toThrow(
      /machine_ids\[0\]: /,
    );
    await expect(registry.view("is_eligible", { machine_id: "x" })).rejects.toThrow(/machine_id: /);
  });
});

describe("expiry", () => {
  test("an attestation stops counting at expires_at, with no transaction needed", async () => {
    const attestation = await attestationOf(m.id);
    expect((await isEligible(registry, m.id)).eligible).toBe(true);
    await advancePast(worker, BigInt(attestation?.expires_at ?? "0"));
    await expectIneligible(
      m.id,
      `the attestation of machine ${m.id} expired at ${attestation?.expires_at}`,
    );
    expect(await stateOfMachine(m.id)).toBe("expired");
  });
});
