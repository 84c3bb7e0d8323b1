/**
 * The verifier service with its collateral from a PCCS through the on-disk cache, wired as
 * `verifier run --pccs URL --collateral-cache DIR` wires it (loadTrust).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { DEFAULT_POLICY } from "../src/policy.ts";
import { PostedStore } from "../src/service/posted-store.ts";
import type {
  PendingEvidence,
  RegistryClient,
  VerdictArgs,
} from "../src/service/registry-client.ts";
import { type LogRecord, VerifierService } from "../src/service/service.ts";
import { parseTdxQuote } from "../src/tdx/quote.ts";
import { loadTrust } from "../src/trust.ts";
import { ROOT_CA_PATH, V5_NOW, v5Collateral, v5Quote } from "./fixtures.ts";
import { type PccsStandIn, startPccs } from "./pccs-server.ts";

function pending(id: string): PendingEvidence {
  return {
    machineId: id,
    provider: "alice.test.near",
    teeType: "tdx",
    machineKey: "ed25519:11111111111111111111111111111111",
    evidenceHash: id.repeat(64),
    nonce: "11".repeat(32),
    submittedAt: "1",
    verifiers: [],
  };
}

/** Machines whose evidence is the up-to-date v5 quote, bound to its own REPORTDATA. */
class Registry implements RegistryClient {
  pending: PendingEvidence[] = [];
  posts: VerdictArgs[] = [];
  async pendingEvidence() {
    return this.pending.filter((p) => !this.posts.some((v) => v.machine_id === p.machineId));
  }
  async expectedReportData() {
    return Buffer.from(parseTdxQuote(v5Quote("upToDate")).report.reportData).toString("hex");
  }
  async evidenceBytes() {
    return v5Quote("upToDate");
  }
  async postVerdict(args: VerdictArgs) {
    this.posts.push(args);
  }
}

let pccs: PccsStandIn;
let dir: string;

beforeEach(async () => {
  pccs = await startPccs(v5Collateral());
  dir = mkdtempSync(join(tmpdir(), "service-collateral-"));
});

afterEach(async () => {
  await pccs.close();
  rmSync(dir, { recursive: true, force: true });
});

function service(registry: Registry, now: Date) {
  const logs: LogRecord[] = [];
  const s = new VerifierService({
    account: "v1.test.near",
    registry,
    trust: loadTrust(
      { rootCa: ROOT_CA_PATH, pccs: pccs.url, collateralCache: dir },
      { clock: () => now, log: (r) => logs.push(r) },
    ),
    policy: { ...DEFAULT_POLICY, requireGpu: false },
    posted: new PostedStore(null),
    log: (r) => logs.push(r),
    now: () => now,
    retryBaseMs: 0,
  });
  return { s, logs };
}

describe("verifier service with a collateral cache", () => {
  test("one PCCS fetch serves many quotes of a platform, and a restart", async () => {
    const registry = new Registry();
    registry.pending = [pending("1"), pending("2"), pending("3")];
    const { s, logs } = service(registry, V5_NOW);
    expect(await s.tick()).toBe(3);
    expect(registry.posts.map((p) => [p.approve, p.tcb_status])).toEqual([
      [true, "UpToDate"],
      [true, "UpToDate"],
      [true, "UpToDate"],
    ]);
    expect(pccs.requests).toHaveLength(4);
    expect(logs.filter((r) => r.event === "collateral_refreshed")).toHaveLength(1);

    // Restarted an hour later with the PCCS gone: the cache on disk still serves.
    await pccs.close();
    registry.pending.push(pending("4"));
    const restarted = service(registry, new Date(V5_NOW.getTime() + 3_600_000));
    expect(await restarted.s.tick()).toBe(1);
    expect(registry.posts.at(-1)).toMatchObject({ machine_id: "4", approve: true });
  });

  test("expired collateral that cannot be refreshed is retried, never a verdict", async () => {
    const registry = new Registry();
    registry.pending = [pending("1")];
    await service(registry, V5_NOW).s.tick();
    pccs.serve(null);
    registry.pending.push(pending("2"));
    const { s, logs } = service(registry, new Date("2026-03-21T00:00:00Z"));
    expect(await s.tick()).toBe(0);
    expect(registry.posts).toHaveLength(1);
    const retry = logs.find((r) => r.event === "retry");
    expect(retry).toMatchObject({ machine_id: "2" });
    expect(String(retry?.error)).toMatch(
      /^collateral for FMSPC 90c06f000000 \(platform CA\) in .* expired at 2026-03-20T10:41:15.000Z \(PCK CRL nextUpdate\) and could not be refreshed from .*HTTP 503$/,
    );
  });
});
