/**
 * What a verifier accepts, as configuration: the TCB statuses that may be approved, whether a
 * debug TD, a TD with a bound service TD, missing GPU evidence or unsigned development evidence
 * may be. Measurements are not
 * judged here: they go into the verdict and the registry checks them against its allowlist.
 */
import { fail } from "./errors.ts";
import type { TcbStatus } from "./tdx/tcb-info.ts";

export interface Policy {
  /**
   * TCB statuses approved when checking without a registry (the CLI, the library). The service
   * follows the registry's governed params.allowed_tcb_statuses instead (check.ts).
   */
  acceptedTcbStatuses: TcbStatus[];
  allowDebugTd: boolean;
  /**
   * Approve a TD report 1.5 whose MRSERVICETD is set: a service TD (e.g. a migration TD) bound
   * to the TD can export its state, so it is refused unless allowed.
   */
  allowServiceTd: boolean;
  requireGpu: boolean;
  /** Approve "none-dev" evidence (no hardware proof): only for local and test networks. */
  allowDev: boolean;
}

export const DEFAULT_POLICY: Policy = {
  acceptedTcbStatuses: ["UpToDate"],
  allowDebugTd: false,
  allowServiceTd: false,
  requireGpu: true,
  allowDev: false,
};

const KNOWN: readonly string[] = [
  "UpToDate",
  "SWHardeningNeeded",
  "ConfigurationNeeded",
  "ConfigurationAndSWHardeningNeeded",
  "OutOfDate",
  "OutOfDateConfigurationNeeded",
  "TDRelaunchAdvised",
  "TDRelaunchAdvisedConfigurationNeeded",
];

/** A policy from JSON (fields optional, defaulting to DEFAULT_POLICY). */
export function parsePolicy(value: unknown): Policy {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    fail("bad_input", "policy: expected a JSON object");
  }
  const p = value as Record<string, unknown>;
  for (const key of Object.keys(p)) {
    if (!(key in DEFAULT_POLICY)) {
      fail("bad_input", `policy: unknown field ${key}`);
    }
  }
  const policy = { ...DEFAULT_POLICY };
  if (p.acceptedTcbStatuses !== undefined) {
    const list = p.acceptedTcbStatuses;
    if (!Array.isArray(list) || list.some((s) => typeof s !== "string" || !KNOWN.includes(s))) {
      fail("bad_input", `policy.acceptedTcbStatuses: expected a list of ${KNOWN.join(", ")}`);
    }
    policy.acceptedTcbStatuses = list as TcbStatus[];
  }
  for (const key of ["allowDebugTd", "allowServiceTd", "requireGpu", "allowDev"] as const) {
    if (p[key] !== undefined) {
      if (typeof p[key] !== "boolean") {
        fail("bad_input", `policy.${key}: expected true or false`);
      }
      policy[key] = p[key];
    }
  }
  return policy;
}
