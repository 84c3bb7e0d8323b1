import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "vitest";
import {
  CollateralCache,
  type CollateralCacheOptions,
  CollateralUnavailableError,
  collateralExpiry,
} from "../src/tdx/collateral-cache.ts";
import { PccsClient } from "../src/tdx/pccs.ts";
import { verifyTdxQuote } from "../src/tdx/verify.ts";
import { loadTrust } from "../src/trust.ts";
import { ROOT_CA_PATH, rootCa, V5_NOW, v5Collateral, v5Quote } from "./fixtures.ts";
import { type PccsStandIn, startPccs } from "./pccs-server.ts";

const FMSPC = "90c06f000000";
/** The v5 collateral's earliest nextUpdate: its PCK CRL's. */
const EXPIRES = new Date("2026-03-20T10:41:15.000Z");
const HOUR = 3_600_000;

let pccs: PccsStandIn;
let dir: string;
let now: Date;
let logged: { event: string }[];

beforeAll(async () => {
  pccs = await startPccs(v5Collateral());
});

afterAll(async () => {
  await pccs.close();
});

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "collateral-cache-"));
  now = V5_NOW;
  logged = [];
  pccs.serve(v5Collateral());
  pccs.requests.length = 0;
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function cache(options: Partial<CollateralCacheOptions> = {}): CollateralCache {
  return new CollateralCache({
    dir,
    source: new PccsClient({ baseUrl: pccs.url }),
    sourceName: pccs.url,
    clock: () => now,
    log: (record) => logged.push(record),
    ...options,
  });
}

/** PCCS requests per fetch: TCB info, QE identity, PCK CRL, root CA CRL. */
const PER_FETCH = 4;

describe("collateral cache", () => {
  test("the earliest nextUpdate of the parts is the collateral's expiry", () => {
    expect(collateralExpiry(v5Collateral())).toEqual({ part: "PCK CRL", nextUpdate: EXPIRES });
  });

  test("fetches once, keeps it on disk, and a restarted cache serves it without asking", async () => {
    const first = await cache().collateral(FMSPC, "platform");
    expect(pccs.requests).toHaveLength(PER_FETCH);
    expect(pccs.requests).toContain(`/tdx/certification/v4/tcb?fmspc=${FMSPC}`);
    const result = await verifyTdxQuote(v5Quote("upToDate"), first, { rootCa: rootCa(), now });
    expect(result.status).toBe("UpToDate");

    const file = JSON.parse(readFileSync(join(dir, `tdx-${FMSPC}-platform.json`), "utf8"));
    expect(file).toMatchObject({
      fmspc: FMSPC,
      ca: "platform",
      fetched_at: V5_NOW.toISOString(),
      next_update: EXPIRES.toISOString(),
      expiring_part: "PCK CRL",
    });
    expect(file.collateral.tcb_info).toBe(v5Collateral().tcbInfo);
    expect(logged.map((r) => r.event)).toEqual(["collateral_refreshed"]);

    now = new Date(V5_NOW.getTime() + HOUR);
    const restarted = cache();
    const again = await restarted.collateral(FMSPC, "platform");
    expect(pccs.requests).toHaveLength(PER_FETCH);
    expect(again.tcbInfo).toBe(first.tcbInfo);
    expect(again.pckCrl).toEqual(first.pckCrl);
    const reverified = await verifyTdxQuote(v5Quote("upToDate"), again, { rootCa: rootCa(), now });
    expect(reverified.status).toBe("UpToDate");
  });

  test("concurrent lookups of one platform share one fetch", async () => {
    const c = cache();
    await Promise.all([c.collateral(FMSPC, "platform"), c.collateral(FMSPC, "platform")]);
    expect(pccs.requests).toHaveLength(PER_FETCH);
  });

  test("refreshes a day before the earliest nextUpdate, and after 12 hours", async () => {
    const c = cache();
    await c.collateral(FMSPC, "platform");
    now = new Date(V5_NOW.getTime() + 11 * HOUR);
    await c.collateral(FMSPC, "platform");
    expect(pccs.requests).toHaveLength(PER_FETCH);
    now = new Date(V5_NOW.getTime() + 12 * HOUR);
    await c.collateral(FMSPC, "platform");
    expect(pccs.requests).toHaveLength(2 * PER_FETCH);

    const late = cache({ maxAgeMs: 30 * 24 * HOUR });
    now = new Date(EXPIRES.getTime() - 25 * HOUR);
    await late.collateral(FMSPC, "platform");
    expect(pccs.requests).toHaveLength(2 * PER_FETCH);
    now = new Date(EXPIRES.getTime() - 23 * HOUR);
    await late.collateral(FMSPC, "platform");
    expect(pccs.requests).toHaveLength(3 * PER_FETCH);
    const file = JSON.parse(readFileSync(join(dir, `tdx-${FMSPC}-platform.json`), "utf8"));
    expect(file.fetched_at).toBe(now.toISOString());
  });

  test("while valid, a failed refresh serves the cached entry and waits before trying again", async () => {
    const c = cache();
    await c.collateral(FMSPC, "platform");
    pccs.serve(null);
    now = new Date(V5_NOW.getTime() + 13 * HOUR);
    const served = await c.collateral(FMSPC, "platform");
    expect(served.tcbInfo).toBe(v5Collateral().tcbInfo);
    expect(logged.at(-1)).toMatchObject({
      event: "collateral_refresh_failed",
      fmspc: FMSPC,
      serving_until: EXPIRES.toISOString(),
    });
    expect(pccs.requests).toHaveLength(2 * PER_FETCH);
    now = new Date(now.getTime() + 60_000);
    await c.collateral(FMSPC, "platform");
    expect(pccs.requests).toHaveLength(2 * PER_FETCH);
    now = new Date(now.getTime() + 5 * 60_000);
    await c.collateral(FMSPC, "platform");
    expect(pccs.requests).toHaveLength(3 * PER_FETCH);
  });

  test("expired and not refreshable: an error saying what expired when and why", async () => {
    await cache().collateral(FMSPC, "platform");
    pccs.serve(null);
    now = new Date(EXPIRES.getTime() + 1000);
    const error = await cache()
      .collateral(FMSPC, "platform")
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CollateralUnavailableError);
    expect((error as Error).message).toMatch(
      new RegExp(
        `^collateral for FMSPC ${FMSPC} \\(platform CA\\) in ${join(dir, `tdx-${FMSPC}-platform.json`)} ` +
          `expired at 2026-03-20T10:41:15.000Z \\(PCK CRL nextUpdate\\) and could not be refreshed ` +
          `from ${pccs.url}: ${pccs.url}/.*: HTTP 503$`,
      ),
    );
  });

  test("nothing cached and the PCCS down: an error naming both", async () => {
    pccs.serve(null);
    await expect(cache().collateral(FMSPC, "processor")).rejects.toThrow(
      new RegExp(
        `^collateral for FMSPC ${FMSPC} \\(processor CA\\): none cached in ${dir} and ${pccs.url} failed: .*HTTP 503$`,
      ),
    );
  });

  test("collateral served already expired is not taken", async () => {
    now = new Date(EXPIRES.getTime() + 1000);
    await expect(cache().collateral(FMSPC, "platform")).rejects.toThrow(
      "it served collateral already expired (PCK CRL nextUpdate 2026-03-20T10:41:15.000Z)",
    );
  });

  test("an unreadable cache file is refetched", async () => {
    writeFileSync(join(dir, `tdx-${FMSPC}-platform.json`), "{ not json");
    const served = await cache().collateral(FMSPC, "platform");
    expect(served.qeIdentity).toBe(v5Collateral().qeIdentity);
    expect(logged.map((r) => r.event)).toEqual([
      "collateral_cache_unreadable",
      "collateral_refreshed",
    ]);
    expect(pccs.requests).toHaveLength(PER_FETCH);
  });

  test("as `verifier run` and `verify-evidence` load it: the service's collateral goes through the cache", async () => {
    const trust = loadTrust(
      { rootCa: ROOT_CA_PATH, pccs: pccs.url, collateralCache: dir },
      { clock: () => now, log: (record) => logged.push(record) },
    );
    for (let i = 0; i < 3; i++) {
      const served = await trust.collateral(FMSPC, "platform");
      expect(served.tcbInfo).toBe(v5Collateral().tcbInfo);
    }
    expect(pccs.requests).toHaveLength(PER_FETCH);
    expect(logged.map((r) => r.event)).toEqual(["collateral_refreshed"]);
    pccs.serve(null);
    const restarted = loadTrust(
      { rootCa: ROOT_CA_PATH, pccs: pccs.url, collateralCache: dir },
      {
        clock: () => now,
      },
    );
    expect((await restarted.collateral(FMSPC, "platform")).qeIdentity).toBe(
      v5Collateral().qeIdentity,
    );
    expect(() =>
      loadTrust({ rootCa: ROOT_CA_PATH, collateral: "c.json", collateralCache: dir }),
    ).toThrow("--collateral-cache needs --pccs: the cache is filled and refreshed from it");
  });

  test("platform keys are checked before they name a file", async () => {
    await expect(cache().collateral("../../etc", "platform")).rejects.toThrow(
      "collateral cache: bad platform key ../../etc/platform",
    );
  });
});
