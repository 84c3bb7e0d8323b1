/**
 * Development evidence for tee_type "none-dev" machines (no TEE): a JSON statement of the
 * REPORTDATA (keyset_sha256 || challenge nonce, as a TEE quote would carry it) and the
 * measurements a real TEE would have produced. Nothing proves it; a verifier approves it only
 * when its policy allows dev evidence (local and test networks), and only when its REPORTDATA is
 * the one the registry requires for the machine's keyset.
 */
import { fail } from "./errors.ts";
import type { Measurements } from "./measurements.ts";

export interface DevReport {
  reportData: string;
  measurements: Measurements;
}

const HEX48 = /^[0-9a-f]{0,96}$/;

export function parseDevReport(text: string): DevReport {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    fail("bad_evidence", `dev report: not JSON (${(error as Error).message})`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    fail("bad_evidence", "dev report: expected an object");
  }
  const v = value as Record<string, unknown>;
  const hex = (field: string, re: RegExp): string => {
    const s = v[field];
    if (typeof s !== "string" || !re.test(s)) {
      fail("bad_evidence", `dev report: ${field} must be lowercase hex (${re.source})`);
    }
    return s;
  };
  const text64 = (field: string): string => {
    const s = v[field];
    if (typeof s !== "string" || s.length > 64) {
      fail("bad_evidence", `dev report: ${field} must be text of at most 64 characters`);
    }
    return s;
  };
  return {
    reportData: hex("report_data", /^[0-9a-f]{128}$/),
    measurements: {
      mrtd: hex("mrtd", HEX48),
      rtmr0: hex("rtmr0", HEX48),
      rtmr1: hex("rtmr1", HEX48),
      rtmr2: hex("rtmr2", HEX48),
      rtmr3: hex("rtmr3", HEX48),
      gpu_driver: text64("gpu_driver"),
      gpu_vbios: text64("gpu_vbios"),
    },
  };
}

/** The dev report's JSON, as a none-dev machine states it (the inverse of parseDevReport). */
export function devReportJson(report: DevReport): string {
  return JSON.stringify({ report_data: report.reportData, ...report.measurements });
}
