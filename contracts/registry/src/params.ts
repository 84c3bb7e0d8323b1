/** Registry parameters: validated on init and on set_params (partial updates). */
import { fail } from "../../common/src/errors.ts";
import type { RegistryParams } from "../../common/src/registry-types.ts";
import { parseU64, parseU128 } from "../../common/src/u128.ts";
import { requireInt, requireObject, requireOnlyKeys } from "../../common/src/validate.ts";
import { LIMITS } from "./state.ts";

const PARAM_NAMES = [
  "min_bond",
  "unbonding_period_ns",
  "challenge_ttl_ns",
  "attestation_ttl_ns",
  "max_evidence_bytes",
] as const;

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
  return next;
}
