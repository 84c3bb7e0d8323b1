/** Escrow parameters: validated on init and on set_params (partial updates). */

import { fail } from "../../common/src/errors.ts";
import type { EscrowParams } from "../../common/src/escrow-types.ts";
import { parseU64 } from "../../common/src/u128.ts";
import { requireInt, requireObject, requireOnlyKeys } from "../../common/src/validate.ts";
import { LIMITS } from "./state.ts";

const DURATIONS = [
  "dispute_window_ns",
  "arbitration_window_ns",
  "min_accept_ns",
  "max_accept_ns",
  "min_deliver_ns",
  "max_deliver_ns",
  "min_session_ns",
  "max_session_ns",
] as const;

const PARAM_NAMES = ["fee_bps", "max_page_size", ...DURATIONS] as const;

/** `base` with the fields given in `value` replaced, each validated, and the bounds consistent. */
export function mergeParams(base: EscrowParams, value: unknown, field: string): EscrowParams {
  const given = requireObject(value, field);
  requireOnlyKeys(given, field, PARAM_NAMES);
  const next = { ...base };
  if (given.fee_bps !== undefined) {
    next.fee_bps = requireInt(given.fee_bps, `${field}.fee_bps`, 0, 10_000);
  }
  if (given.max_page_size !== undefined) {
    next.max_page_size = requireInt(
      given.max_page_size,
      `${field}.max_page_size`,
      1,
      LIMITS.pageSizeCeiling,
    );
  }
  for (const name of DURATIONS) {
    if (given[name] !== undefined) {
      const ns = parseU64(given[name], `${field}.${name}`);
      if (ns === 0n) {
        fail(`${field}.${name}: must be greater than 0`);
      }
      next[name] = ns.toString();
    }
  }
  if (BigInt(next.min_accept_ns) > BigInt(next.max_accept_ns)) {
    fail(
      `${field}: min_accept_ns ${next.min_accept_ns} exceeds max_accept_ns ${next.max_accept_ns}`,
    );
  }
  if (BigInt(next.min_deliver_ns) > BigInt(next.max_deliver_ns)) {
    fail(
      `${field}: min_deliver_ns ${next.min_deliver_ns} exceeds max_deliver_ns ${next.max_deliver_ns}`,
    );
  }
  if (BigInt(next.min_session_ns) > BigInt(next.max_session_ns)) {
    fail(
      `${field}: min_session_ns ${next.min_session_ns} exceeds max_session_ns ${next.max_session_ns}`,
    );
  }
  return next;
}
