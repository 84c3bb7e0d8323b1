/** Registry parameters: validated on init and on set_params (partial updates). */
import { fail } from "../../common/src/errors.ts";
import type { RegistryParams } from "../../common/src/registry-types.ts";
import { parseU64, parseU128 } from "../../common/src/u128.ts";
import {
  requireArray,
  requireEnum,
  requireInt,
  requireObject,
  requireOnlyKeys,
} from "../../common/src/validate.ts";
import { LIMITS, TCB_STATUSES } from "./state.ts";

const PARAM_NAMES = [
  "min_bond",
  "unbonding_period_ns",
  "challenge_ttl_ns",
  "attestation_ttl_ns",
  "max_evidence_bytes",
  "allowed_tcb_statuses",
] as const;

/** 1 to all of TCB_STATUSES, each once. */
function parseTcbStatuses(value: unknown, field: string): string[] {
  const list = requireArray(value, field, 1, TCB_STATUSES.length);
  const statuses: string[] = [];
  for (let i = 0; i < list.length; i++) {
    const status = requireEnum(list[i], `${field}[${i}]`, TCB_STATUSES);
    if (statuses.includes(status)) {
      fail(`${field}[${i}]: "${status}" is listed twice`);
    }
    statuses.push(status);
  }
  return statuses;
}

/** `base` with the fields given in `value` replaced, each validated. */
export function mergeParams(base: RegistryParams, value: unknown, field: string): RegistryParams {
  const given = requireObject(value, field);
  requireOnlyKeys(given, field, PARAM_NAMES);
  const next = { ...base };
  if (given.min_bond !== undefined) {
    next.min_bond = parseU128(given.min_bond, `${field}.min_bond`).toString();
  }
  for (const name of ["unbonding_period_ns", "challenge_ttl_ns", "attestation_ttl_ns"] as const) {
    if (given[name] !== undefined) {
      if (parseU64(given[name], `${field}.${name}`) === 0n) {
        fail(`${field}.${name}: must be greater than 0`);
      }
      next[name] = given[name] as string;
    }
  }
  if (given.max_evidence_bytes !== undefined) {
    next.max_evidence_bytes = requireInt(
      given.max_evidence_bytes,
      `${field}.max_evidence_bytes`,
      1,
      LIMITS.evidenceBytesCeiling,
    );
  }
  if (given.allowed_tcb_statuses !== undefined) {
    next.allowed_tcb_statuses = parseTcbStatuses(
      given.allowed_tcb_statuses,
      `${field}.allowed_tcb_statuses`,
    );
  }
  return next;
}
