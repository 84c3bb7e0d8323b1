import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, onTestFinished, test } from "vitest";
import { encodeEvidence } from "../src/evidence.ts";
import { DEFAULT_POLICY } from "../src/policy.ts";
import { gpuNonce, type Keyset, keysetSha256 } from "../src/report-data.ts";
import { PostedStore } from "../src/service/posted-store.ts";
import type {
  PendingEvidence,
  RegistryClient,
  VerdictArgs,
} from "../src/service/registry-client.ts";
import { type LogRecord, VerifierService } from "../src/service/service.ts";
import { collateral, NOW, QUOTE_MRTD, QUOTE_REPORT_DATA, quote, rootCa } from "./fixtures.ts";
import { nrasResult, type TestSigner, testSigner } from "./nvidia-helpers.ts";

const KEYSET: Keyset = {
  account: "alice.test.near",
  registry: "registry.test.near",
  signing_key: "ed25519:11111111111111111111111111111111",
  encryption_key: `x25519:${"ab".repeat(32)}`,
  models: [{ name: "llama-3.1-8b-instruct", weights_sha256: "cd".repeat(32) }],
};

const PENDING: PendingEvidence = {
  machineId: "1",
  provider: "alice.test.near",
  teeType: "tdx",
  machineKey: KEYSET.signing_key,
  evidenceHash: "ab".repeat(32),
  nonce: "11".repeat(32),
  keyset: KEYSET,
  keysetSha256: keysetSha256(KEYSET),
  submittedAt: "1",
  verifiers: [],
};

let signer: TestSigner;

beforeAll(async () => {
  signer = await testSigner();
});

/** A registry stand-in: one pending evidence, the fixture quote, and failures on demand. */
class FakeRegistry implements RegistryClient {
  posts: VerdictArgs[] = [];
  pending: PendingEvidence[] = [PENDING];
  reportData = QUOTE_REPORT_DATA;
  allowed = ["UpToDate"];
  evidence: Uint8Array = quote();
  bytesAsked = 0;
  failBytes = 0;
  failPosts = 0;

  async pendingEvidence() {
    return this.pending;
  }
  async allowedTcbStatuses() {
    return this.allowed;
  }
  async expectedReportData() {
    return this.reportData;
  }
  async evidenceBytes() {
    this.bytesAsked++;
    if (this.failBytes > 0) {
      this.failBytes--;
      throw new Error("RPC timeout");
    }
    return this.evidence;
  }
  async postVerdict(args: VerdictArgs) {
    if (this.failPosts > 0) {
      this.failPosts--;
      throw new Error("transaction expired");
    }
    this.posts.push(args);
  }
}

function service(registry: FakeRegistry, posted = new PostedStore(null), requireGpu = false) {
  const logs: LogRecord[] = [];
  const s = new VerifierService({
    account: "v1.test.near",
    registry,
    trust: { rootCa: rootCa(), collateral: async () => collateral(), nvidiaJwks: signer.jwks },
    policy: { ...DEFAULT_POLICY, requireGpu },
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
    expect(decision).toMatchObject({
      approve: true,
      tcb_status: "UpToDate",
      machine_id: "1",
      keyset_sha256: PENDING.keysetSha256,
    });
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

  test("a TCB status outside the registry's allowed_tcb_statuses is posted as a rejection naming it", async () => {
    const registry = new FakeRegistry();
    registry.allowed = ["SWHardeningNeeded", "OutOfDate"];
    await service(registry).s.tick();
    expect(registry.posts[0]).toMatchObject({
      approve: false,
      tcb_status: "UpToDate",
      measurements: null,
      reason:
        "tcb_status_refused: TCB status UpToDate is not accepted (the registry allows " +
        "SWHardeningNeeded, OutOfDate)",
    });
  });

  test("GPU tokens must carry the nonce of the keyset the evidence attests", async () => {
    const bound = new FakeRegistry();
    bound.evidence = encodeEvidence({
      tdxQuote: quote(),
      gpuEvidence: await nrasResult(signer, gpuNonce(PENDING.keysetSha256 ?? "", PENDING.nonce)),
    });
    await service(bound, new PostedStore(null), true).s.tick();
    expect(bound.posts[0]).toMatchObject({ approve: true, tcb_status: "UpToDate" });
    expect(bound.posts[0]?.measurements).toMatchObject({ gpu_driver: "580.159.04" });

    const bare = new FakeRegistry();
    bare.evidence = encodeEvidence({
      tdxQuote: quote(),
      gpuEvidence: await nrasResult(signer, PENDING.nonce),
    });
    await service(bare, new PostedStore(null), true).s.tick();
    expect(bare.posts[0]?.approve).toBe(false);
    expect(bare.posts[0]?.reason).toMatch(/^gpu_claim_failed: overall GPU token: eat_nonce is/);
  });

  test("evidence that attests no keyset is rejected without reading its bytes", async () => {
    const registry = new FakeRegistry();
    registry.pending = [{ ...PENDING, keyset: null, keysetSha256: null }];
    const { s, logs } = service(registry);
    expect(await s.tick()).toBe(1);
    expect(registry.bytesAsked).toBe(0);
    expect(registry.posts).toEqual([
      {
        machine_id: "1",
        evidence_hash: PENDING.evidenceHash,
        approve: false,
        measurements: null,
        tcb_status: "Unverified",
        reason:
          `no_keyset: evidence ${PENDING.evidenceHash} attests no keyset (submitted before ` +
          "keysets); the provider must submit evidence with a keyset",
      },
    ]);
    expect(logs.find((l) => l.event === "decision")).toMatchObject({ approve: false });
  });

  test("a registry whose keyset hash disagrees with the keyset it lists gets no verdict", async () => {
    const registry = new FakeRegistry();
    registry.pending = [{ ...PENDING, keysetSha256: "ee".repeat(32) }];
    const { s, logs } = service(registry);
    expect(await s.tick()).toBe(0);
    expect(registry.posts).toEqual([]);
    expect(logs.find((l) => l.event === "retry")?.error).toBe(
      `the registry bound the evidence to keyset ${"ee".repeat(32)}, but the keyset it lists ` +
        `hashes to ${PENDING.keysetSha256}`,
    );
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
