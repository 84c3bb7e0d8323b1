import { execFile, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, test } from "vitest";
import {
  COLLATERAL_PATH,
  QUOTE_PATH,
  QUOTE_REPORT_DATA,
  ROOT_CA_PATH,
  V5_COLLATERAL_PATH,
  V5_NOW,
  V5_QUOTE_PATHS,
  v5Collateral,
} from "./fixtures.ts";
import { startPccs } from "./pccs-server.ts";

const BIN = fileURLToPath(new URL("../bin/verify-evidence", import.meta.url));
const BASE = [
  QUOTE_PATH,
  "--root-ca",
  ROOT_CA_PATH,
  "--collateral",
  COLLATERAL_PATH,
  "--now",
  "2025-06-25T00:00:00Z",
  "--no-gpu",
];

function run(args: string[]) {
  const r = spawnSync(BIN, args, { encoding: "utf8" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Runs the CLI without blocking this process (which may be serving its PCCS). */
async function runAsync(args: string[]) {
  try {
    const { stdout, stderr } = await promisify(execFile)(BIN, args, { encoding: "utf8" });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe("verify-evidence CLI", () => {
  test("approves the fixture with its REPORTDATA (exit 0) and prints the checks", () => {
    const r = run([...BASE, "--report-data", QUOTE_REPORT_DATA]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/verdict: {5}APPROVE/);
    expect(r.stdout).toMatch(/tcb status: {2}UpToDate/);
    expect(r.stdout).toMatch(/ok {2}quote signature over header and TD report verified/);
  });

  test("rejects wrong REPORTDATA (exit 1) with the reason, as JSON too", () => {
    const r = run([...BASE, "--report-data", "00".repeat(64), "--json"]);
    expect(r.code).toBe(1);
    const verdict = JSON.parse(r.stdout);
    expect(verdict.approve).toBe(false);
    expect(verdict.code).toBe("report_data_mismatch");
  });

  test("bad usage exits 2 and says what is missing", () => {
    const r = run([QUOTE_PATH, "--collateral", COLLATERAL_PATH]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--root-ca FILE is required/);
    expect(run([]).code).toBe(2);
    const cacheOnly = run([QUOTE_PATH, "--root-ca", ROOT_CA_PATH, "--collateral-cache", "/tmp/x"]);
    expect(cacheOnly.code).toBe(2);
    expect(cacheOnly.stderr).toMatch(/--collateral-cache needs --pccs/);
  });

  test("a version 5 quote: OutOfDate with its advisories, rejected by the default policy", () => {
    const r = run([
      V5_QUOTE_PATHS.outOfDate,
      "--root-ca",
      ROOT_CA_PATH,
      "--collateral",
      V5_COLLATERAL_PATH,
      "--now",
      V5_NOW.toISOString(),
      "--no-gpu",
    ]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      /tcb status: {2}OutOfDate \(INTEL-SA-01036, INTEL-SA-01079, INTEL-SA-01099, INTEL-SA-01103, INTEL-SA-01111\)/,
    );
    expect(r.stdout).toMatch(/reason: {6}service_td_bound: a service TD is bound to the TD/);
    expect(r.stdout).toMatch(/ok {2}quote parsed: version 5, TD report 1.5, ECDSA P-256, TDX/);
  });

  test("--pccs with --collateral-cache fetches once, then verifies with the PCCS gone", async () => {
    const pccs = await startPccs(v5Collateral());
    const dir = mkdtempSync(join(tmpdir(), "verify-evidence-cache-"));
    try {
      const args = [
        V5_QUOTE_PATHS.upToDate,
        "--root-ca",
        ROOT_CA_PATH,
        "--pccs",
        pccs.url,
        "--collateral-cache",
        dir,
        "--now",
        V5_NOW.toISOString(),
        "--no-gpu",
      ];
      const first = await runAsync(args);
      expect(first.code).toBe(0);
      expect(first.stdout).toMatch(/tcb status: {2}UpToDate/);
      expect(first.stderr).toMatch(/"event":"collateral_refreshed","fmspc":"90c06f000000"/);
      expect(pccs.requests).toHaveLength(4);
      expect(readdirSync(dir)).toEqual(["tdx-90c06f000000-platform.json"]);

      await pccs.close();
      const second = await runAsync(args);
      expect(second.code).toBe(0);
      expect(second.stdout).toMatch(/verdict: {5}APPROVE/);
      expect(second.stderr).toBe("");

      // A month later the cached collateral has expired and cannot be refreshed: not a verdict.
      const late = await runAsync([
        ...args.slice(0, -3),
        "--now",
        "2026-04-01T00:00:00Z",
        "--no-gpu",
      ]);
      expect(late.code).toBe(2);
      expect(late.stderr).toMatch(
        /collateral for FMSPC 90c06f000000 \(platform CA\) in .* expired at 2026-03-20T10:41:15.000Z \(PCK CRL nextUpdate\) and could not be refreshed from http:\/\/127\.0\.0\.1:\d+: /,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
