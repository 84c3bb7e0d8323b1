/** Governance config: validated at init and in config actions (partial changes, at proposal time). */
import { near } from "near-sdk-js";
import { fail } from "../../common/src/errors.ts";
import type { GovernanceConfig } from "../../common/src/governance-types.ts";
import { parseU128 } from "../../common/src/u128.ts";
import {
  requireAccountId,
  requireArray,
  requireInt,
  requireObject,
  requireOnlyKeys,
} from "../../common/src/validate.ts";
import { LIMITS } from "./state.ts";

const CONFIG_KEYS = [
  "voting_delay_blocks",
  "voting_period_blocks",
  "timelock_blocks",
  "grace_period_blocks",
  "quorum_bps",
  "proposal_threshold",
  "guardian",
  "governed",
] as const;

export const DEFAULT_CONFIG: GovernanceConfig = {
  voting_delay_blocks: 60,
  voting_period_blocks: 3600,
  timelock_blocks: 3600,
  grace_period_blocks: 86400,
  quorum_bps: 400,
  proposal_threshold: "0",
  guardian: null,
  governed: [],
};

function parseGoverned(value: unknown, field: string): string[] {
  const list = requireArray(value, field, 0, LIMITS.maxGoverned);
  const out: string[] = [];
  list.forEach((item, i) => {
    const account = requireAccountId(item, `${field}[${i}]`);
    if (account === near.currentAccountId()) {
      fail(`${field}[${i}]: governance governs itself through config and upgrade_self actions`);
    }
    if (out.includes(account)) {
      fail(`${field}[${i}]: ${account} is listed twice`);
    }
    out.push(account);
  });
  return out;
}

/** The validated fields of `value` (a partial config); unknown fields are rejected. */
export function parseConfigPatch(value: unknown, field: string): Partial<GovernanceConfig> {
  const given = requireObject(value, field);
  requireOnlyKeys(given, field, CONFIG_KEYS);
  const patch: Partial<GovernanceConfig> = {};
  const blocks = [
    ["voting_delay_blocks", 0],
    ["voting_period_blocks", 1],
    ["timelock_blocks", 0],
    ["grace_period_blocks", 1],
  ] as const;
  for (const [name, min] of blocks) {
    if (given[name] !== undefined) {
      patch[name] = requireInt(given[name], `${field}.${name}`, min, LIMITS.maxBlocks);
    }
  }
  if (given.quorum_bps !== undefined) {
    patch.quorum_bps = requireInt(given.quorum_bps, `${field}.quorum_bps`, 1, 10_000);
  }
  if (given.proposal_threshold !== undefined) {
    patch.proposal_threshold = parseU128(
      given.proposal_threshold,
      `${field}.proposal_threshold`,
    ).toString();
  }
  if (given.guardian !== undefined) {
    patch.guardian =
      given.guardian === null ? null : requireAccountId(given.guardian, `${field}.guardian`);
  }
  if (given.governed !== undefined) {
    patch.governed = parseGoverned(given.governed, `${field}.governed`);
  }
  if (Object.keys(patch).length === 0) {
    fail(`${field}: names no setting to change`);
  }
  return patch;
}

export function applyConfigPatch(
  base: GovernanceConfig,
  patch: Partial<GovernanceConfig>,
): GovernanceConfig {
  return { ...base, ...patch, governed: [...(patch.governed ?? base.governed)] };
}

/** Quorum in token units for a supply: floor(supply * bps / 10000). */
export function quorumOf(config: GovernanceConfig, totalSupply: bigint): bigint {
  return (totalSupply * BigInt(config.quorum_bps)) / 10_000n;
}
