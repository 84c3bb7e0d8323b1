/**
 * register-provider's preflight: every check runs, each failure says what to do, and the command
 * stops before sending anything if one fails.
 */
import { CliError } from "../errors.ts";
import type { Io } from "../io.ts";

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
  fix?: string;
}

export function passed(name: string, detail: string): Check {
  return { name, ok: true, detail };
}

export function failed(name: string, detail: string, fix: string): Check {
  return { name, ok: false, detail, fix };
}

export function printChecks(io: Io, checks: Check[]): void {
  for (const check of checks) {
    io.line(`  ${check.ok ? "ok  " : "FAIL"} ${check.name}: ${check.detail}`);
    if (!check.ok && check.fix !== undefined) io.line(`       fix: ${check.fix}`);
  }
}

/** Throws one error listing every failed check with its fix. */
export function requireChecks(checks: Check[]): void {
  const failures = checks.filter((c) => !c.ok);
  if (failures.length === 0) return;
  throw new CliError(
    `preflight failed: ${failures.map((c) => `${c.name}: ${c.detail}`).join("; ")}`,
    {
      hint: failures.map((c) => `${c.name}: ${c.fix ?? "see above"}`).join("; "),
      details: { checks },
    },
  );
}
