/** NEP-145 storage management for token accounts. */
import { near } from "near-sdk-js";
import { fail } from "../../common/src/errors.ts";
import type { StorageBalance } from "../../common/src/governance-types.ts";
import { transfer } from "../../common/src/storage-meter.ts";
import { parseU128 } from "../../common/src/u128.ts";
import { requireAccountId, requireBool } from "../../common/src/validate.ts";
import {
  minStorageBalance,
  newAccount,
  readAccount,
  refundOf,
  removeAccount,
  requireAccount,
  storageBalanceOf,
  writeAccount,
} from "./accounts.ts";
import { emit } from "./events.ts";
import { assertOneYocto } from "./token.ts";

function emitBalance(id: string, balance: StorageBalance | null): void {
  emit({
    event: "storage_balance_updated",
    data: {
      account_id: id,
      total: balance?.total ?? "0",
      available: balance?.available ?? "0",
      registered: balance !== null,
    },
  });
}

export function storageDeposit(args: Record<string, unknown>): StorageBalance {
  const id =
    args.account_id === undefined || args.account_id === null
      ? near.predecessorAccountId()
      : requireAccountId(args.account_id, "account_id");
  const registrationOnly =
    args.registration_only === undefined || args.registration_only === null
      ? false
      : requireBool(args.registration_only, "registration_only");
  const attached = near.attachedDeposit();
  const existing = readAccount(id);
  if (existing !== null) {
    if (registrationOnly) {
      transfer(near.predecessorAccountId(), attached);
      return storageBalanceOf(existing);
    }
    existing.t = (BigInt(existing.t) + attached).toString();
    writeAccount(id, existing);
    const balance = storageBalanceOf(existing);
    emitBalance(id, balance);
    return balance;
  }
  const min = minStorageBalance();
  if (attached < min) {
    fail(`attached deposit ${attached} is less than the ${min} needed to register ${id}`);
  }
  const kept = registrationOnly ? min : attached;
  transfer(near.predecessorAccountId(), attached - kept);
  const account = newAccount(kept);
  writeAccount(id, account);
  const balance = storageBalanceOf(account);
  emitBalance(id, balance);
  return balance;
}

export function storageWithdraw(args: Record<string, unknown>): StorageBalance {
  assertOneYocto("storage_withdraw");
  const id = near.predecessorAccountId();
  const account = requireAccount(id, "account");
  const available = BigInt(storageBalanceOf(account).available);
  const amount =
    args.amount === undefined || args.amount === null
      ? available
      : parseU128(args.amount, "amount");
  if (amount > available) {
    fail(`amount: ${amount} is more than the ${available} available`);
  }
  account.t = (BigInt(account.t) - amount).toString();
  writeAccount(id, account);
  transfer(id, amount + 1n);
  const balance = storageBalanceOf(account);
  emitBalance(id, balance);
  return balance;
}

/**
 * Refunds the deposit less what checkpoints consumed (they stay: past votes must stay readable) and
 * less what the contract granted (initial holders).
 */
export function storageUnregister(args: Record<string, unknown>): boolean {
  assertOneYocto("storage_unregister");
  const force =
    args.force === undefined || args.force === null ? false : requireBool(args.force, "force");
  const id = near.predecessorAccountId();
  const account = readAccount(id);
  if (account === null) {
    return false;
  }
  if (BigInt(account.b) > 0n) {
    const why = force ? "the supply is fixed, so tokens cannot be burnt" : "transfer them first";
    fail(`${id} still holds ${account.b} tokens: ${why}`);
  }
  const refund = refundOf(account);
  removeAccount(id);
  transfer(id, refund + 1n);
  emitBalance(id, null);
  return true;
}
