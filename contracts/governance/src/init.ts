/** Initialization: config, token metadata, and the whole fixed supply minted to the holders. */
import { fail } from "../../common/src/errors.ts";
import type { TokenMetadata } from "../../common/src/governance-types.ts";
import { parseU128, U128_MAX } from "../../common/src/u128.ts";
import {
  requireAccountId,
  requireArray,
  requireInt,
  requireObject,
  requireOnlyKeys,
  requireText,
} from "../../common/src/validate.ts";
import { minStorageBalance, newAccount, readAccount, writeAccount } from "./accounts.ts";
import { applyConfigPatch, DEFAULT_CONFIG, parseConfigPatch } from "./config.ts";
import { emit, emitMint } from "./events.ts";
import { CONTRACT_VERSION, DEFAULT_METADATA, type GovernanceState, LIMITS } from "./state.ts";

function parseMetadata(value: unknown): TokenMetadata {
  if (value === undefined) {
    return DEFAULT_METADATA;
  }
  const given = requireObject(value, "metadata");
  requireOnlyKeys(given, "metadata", ["name", "symbol", "icon", "decimals"]);
  return {
    ...DEFAULT_METADATA,
    name: requireText(given.name, "metadata.name", 1, 64),
    symbol: requireText(given.symbol, "metadata.symbol", 1, 16),
    icon:
      given.icon === undefined || given.icon === null
        ? null
        : requireText(given.icon, "metadata.icon", 1, 2048),
    decimals:
      given.decimals === undefined ? 24 : requireInt(given.decimals, "metadata.decimals", 0, 38),
  };
}

export function initialize(state: GovernanceState, args: Record<string, unknown>): void {
  state.version = CONTRACT_VERSION;
  state.metadata = parseMetadata(args.metadata);
  state.config =
    args.config === undefined
      ? DEFAULT_CONFIG
      : applyConfigPatch(DEFAULT_CONFIG, parseConfigPatch(args.config, "config"));
  const holders = requireArray(args.holders, "holders", 1, LIMITS.maxHolders);
  let supply = 0n;
  holders.forEach((item, i) => {
    const holder = requireObject(item, `holders[${i}]`);
    requireOnlyKeys(holder, `holders[${i}]`, ["account_id", "amount"]);
    const id = requireAccountId(holder.account_id, `holders[${i}].account_id`);
    const amount = parseU128(holder.amount, `holders[${i}].amount`);
    if (amount === 0n) {
      fail(`holders[${i}].amount: must be greater than 0`);
    }
    if (readAccount(id) !== null) {
      fail(`holders[${i}].account_id: ${id} is listed twice`);
    }
    supply += amount;
    if (supply > U128_MAX) {
      fail("holders: the total supply does not fit in u128");
    }
    // The contract registers the initial holders at its own expense: a grant they cannot withdraw.
    const account = newAccount(minStorageBalance(), minStorageBalance());
    account.b = amount.toString();
    writeAccount(id, account);
    emitMint(id, amount);
  });
  state.total_supply = supply.toString();
  state.next_proposal_id = 0;
  state.legacy_grace_period_blocks = state.config.grace_period_blocks;
  emit({
    event: "governance_initialized",
    data: {
      config: state.config,
      metadata: state.metadata,
      total_supply: state.total_supply,
      version: state.version,
    },
  });
}
