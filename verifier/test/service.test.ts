import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, onTestFinished, test } from "vitest";
import { DEFAULT_POLICY } from "../src/policy.ts";
import { PostedStore } from "../src/service/posted-store.ts";
import type {
  PendingEvidence,
  RegistryClient,
  VerdictArgs,
} from "../src/service/registry-client.ts";
import { type LogRecord, VerifierService } from "../src/service/service.ts";
import { collateral, NOW, QUOTE_MRTD, QUOTE_REPORT_DATA, quote, rootCa } from "./fixtures.ts";

const PENDING: PendingEvidence = {
  machineId: "1",
  provider: "alice.test.near",
  teeType: "tdx",
  machineKey: "ed25519:11111111111111111111111111111111",
  evidenceHash: "ab".repeat(32),
  nonce: "11".repeat(32),
  submittedAt: "1",
  verifiers: [],
};

/** A registry stand-in: one pending evidence, the fixture quote, and failures on demand. */
class FakeRegistry implements RegistryClient {
  posts: VerdictArgs[] = [];
  pending: PendingEvidence[] = [PENDING];
  reportData = QUOTE_REPORT_DATA;
  failBytes = 0;
  failPosts = 0;

  async pendingEvidence() {
    return this.pending;
  }
  async expectedReportData() {
    return this.reportData;
  }
  async evidenceBytes() {
    if (this.failBytes > 0) {
      this.failBytes--;
      throw new Error("RPC timeout");
    }
    return quote();
  }
  async postVerdict(args: VerdictArgs) {
    if (this.failPosts > 0) {
      this.failPosts--;
      throw new Error("transaction expired");
    }
    this.posts.push(args);
  }
}

function service(registry: FakeRegistry, posted = new PostedStore(null)) {
  const logs: LogRecord[] = [];
  const s = new VerifierService({
    account: "v1.test.near",
    registry,
    trust: { rootCa: rootCa(), collateral: async () => collateral(), nvidiaJwks: null },
    policy: { ...DEFAULT_POLICY, requireGpu: false },
    posted,
    log: (r) => logs.push(r),
    now: () => NOW,
    retryBaseMs: 0,
  });
  return { s, logs };
}

describe("verifier service", () => {
  test("verifies pending evidence, posts an approval with measurements, logs the decision", async () => {
    const registry = new FakeRegistry();
    const { s, logs } = service(registry);
    expect(await s.tick()).toBe(1);
    expect(registry.posts).toHaveLength(1);
    expect(registry.posts[0]).toMatchObject({
      machine_id: "1",
      evidence_hash: PENDING.evidenceHash,
      approve: true,
      tcb_status: "UpToDate",
      measurements: { mrtd: QUOTE_MRTD, gpu_driver: "", gpu_vbios: "" },
    });
    const decision = logs.find((l) => l.event === "decision");
    expect(decision).toMatchObject({ approve: true, tcb_status: "UpToDate", machine_id: "1" });
    expect(decision?.checks).toContain("quote signature over header and TD report verified");
  });

  test("never posts twice for the same evidence, across restarts too", async () => {
    const registry = new FakeRegistry();
    const dir = mkdtempSync(join(tmpdir(), "verifier-"));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const state = join(dir, "posted.json");
    const first = service(registry, new PostedStore(state));
    expect(await first.s.tick()).toBe(1);
    expect(await first.s.tick()).toBe(0);
    const restarted = service(registry, new PostedStore(state));
    expect(await restarted.s.tick()).toBe(0);
    expect(registry.posts).toHaveLength(1);
  });

  test("skips evidence it already has a verdict on in the registry", async () => {
    const registry = new FakeRegistry();
    registry.pending = [{ ...PENDING, verifiers: ["v1.test.near"] }];
    expect(await service(registry).s.tick()).toBe(0);
    expect(registry.posts).toHaveLength(0);
  });

  test("a wrong REPORTDATA is posted as a rejection with the reason", async () => {
    const registry = new FakeRegistry();
    registry.reportData = "00".repeat(64);
    await service(registry).s.tick();
    expect(registry.posts[0]?.approve).toBe(false);
    expect(registry.posts[0]?.measurements).toBeNull();
    expect(registry.posts[0]?.reason).toMatch(/^report_data_mismatch: REPORTDATA 9a9d48/);
    expect(registry.posts[0]?.reason.length).toBeLessThanOrEqual(256);
  });

  test("transient failures are retried and logged, then the verdict is posted once", async () => {
    const registry = new FakeRegistry();
    registry.failBytes = 1;
    registry.failPosts = 1;
    const { s, logs } = service(registry);
    expect(await s.tick()).toBe(0);
    expect(await s.tick()).toBe(0);
    expect(await s.tick()).toBe(1);
    expect(await s.tick()).toBe(0);
    expect(registry.posts).toHaveLength(1);
    const retries = logs.filter((l) => l.event === "retry");
    expect(retries.map((r) => r.error)).toEqual(["RPC timeout", "transaction expired"]);
    expect(retries.map((r) => r.attempt)).toEqual([1, 2]);
  });

  test("evidence of an unsupported TEE type is skipped (logged once), not rejected", async () => {
    const registry = new FakeRegistry();
    registry.pending = [{ ...PENDING, teeType: "sev-snp" }];
    const { s, logs } = service(registry);
    expect(await s.tick()).toBe(0);
    expect(await s.tick()).toBe(0);
    expect(registry.posts).toEqual([]);
    expect(logs).toEqual([
      {
        event: "skipped",
        machine_id: "1",
        evidence_hash: PENDING.evidenceHash,
        reason: "tee_type sev-snp is not supported",
      },
    ]);
  });

  test("an unreachable registry is logged and the pass ends without posting", async () => {
    const registry = new FakeRegistry();
    registry.pendingEvidence = async () => {
      throw new Error("connection refused");
    };
    const { s, logs } = service(registry);
    expect(await s.tick()).toBe(0);
    expect(logs).toEqual([{ event: "poll_failed", error: "connection refused" }]);
  });
});
