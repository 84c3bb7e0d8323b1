/** Storage staking: an account must hold storage_usage * storage_amount_per_byte (amount + locked). */
import type { RuntimeConfig } from "../config/runtime-config.ts";
import type { Account } from "./types.ts";

/** Zero-balance accounts (NEP-448): this much storage needs no stake. */
const ZERO_BALANCE_ACCOUNT_STORAGE_LIMIT = 770n;

const perByte = new WeakMap<RuntimeConfig, bigint>();

export function storageAmountPerByte(config: RuntimeConfig): bigint {
  let v = perByte.get(config);
  if (v === undefined) {
    v = BigInt(config.storage_amount_per_byte);
    perByte.set(config, v);
  }
  return v;
}

/** Amount missing to cover the account's storage, or 0n when covered. */
export function storageStakeShortfall(account: Account, config: RuntimeConfig): bigint {
  const required = account.storageUsage * storageAmountPerByte(config);
  const available = account.amount + account.locked;
  if (available >= required) return 0n;
  if (account.storageUsage <= ZERO_BALANCE_ACCOUNT_STORAGE_LIMIT) return 0n;
  return required - available;
}
