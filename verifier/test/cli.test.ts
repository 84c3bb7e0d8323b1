import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import { COLLATERAL_PATH, QUOTE_PATH, QUOTE_REPORT_DATA, ROOT_CA_PATH } from "./fixtures.ts";

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
  });
});
