/**
 * NEP-145 storage balances. Registering locks a flat fee; each job consumes a flat fee from the
 * payer's available storage balance (job records stay for history); allowances and approval
 * requests lock one while they exist. Flat fees keep every charge and release exact.
 */
import { near } from "near-sdk-js";
import { fail } from "../../common/src/errors.ts";
import type { StorageBalance } from "../../common/src/escrow-types.ts";
import { emitEvent } from "../../common/src/events.ts";
import { readRecord, writeRecord } from "../../common/src/store.ts";
import { parseU128 } from "../../common/src/u128.ts";
import {
  requireAccountId,
  requireBool,
  requireObject,
  requireOnlyKeys,
} from "../../common/src/validate.ts";
import { storageKey } from "./keys.ts";
import { STORAGE_BYTES } from "./state.ts";

interface StorageRecord {
  total: string;
  locked: string;
}

export function feeOf(bytes: bigint): bigint {
  return bytes * near.storageByteCost();
}

function read(account: string): StorageRecord | null {
  return readRecord<StorageRecord>(storageKey(account));
}

function view(record: StorageRecord): StorageBalance {
  return {
    total: record.total,
    available: (BigInt(record.total) - BigInt(record.locked)).toString(),
  };
}

function requireRegistered(account: string, purpose: string): StorageRecord {
  return (
    read(account) ??
    fail(
      `${account} has no storage balance on the escrow, needed for ${purpose}: call storage_deposit`,
    )
  );
}

export function storageBalanceOf(account: string): StorageBalance | null {
  const record = read(account);
  return record === null ? null : view(record);
}

export function storageBounds(): { min: string; max: null } {
  return { min: feeOf(STORAGE_BYTES.registration).toString(), max: null };
}

export function storageDeposit(value: unknown): StorageBalance {
  const args = requireObject(value, "args");
  requireOnlyKeys(args, "args", ["account_id", "registration_only"]);
  const caller = near.predecessorAccountId();
  const account =
    args.account_id === undefined || args.account_id === null
      ? caller
      : requireAccountId(args.account_id, "account_id");
  const registrationOnly =
    args.registration_only === undefined || args.registration_only === null
      ? false
      : requireBool(args.registration_only, "registration_only");
  const attached = near.attachedDeposit();
  const min = feeOf(STORAGE_BYTES.registration);
  let record = read(account);
  let kept = attached;
  if (record === null) {
    if (attached < min) {
      fail(`storage_deposit: attached ${attached} is less than the registration minimum ${min}`);
    }
    kept = registrationOnly ? min : attached;
    record = { total: kept.toString(), locked: min.toString() };
  } else {
    kept = registrationOnly ? 0n : attached;
    record.total = (BigInt(record.total) + kept).toString();
  }
  if (kept === 0n && attached === 0n) {
    fail("storage_deposit: attach a deposit");
  }
  writeRecord(storageKey(account), record);
  if (attached > kept) {
    near.promiseBatchActionTransfer(near.promiseBatchCreate(caller), attached - kept);
  }
  const balance = view(record);
  emitEvent({
    event: "storage_deposit",
    data: { account_id: account, amount: kept.toString(), ...balance },
  });
  return balance;
}

export function storageWithdraw(value: unknown): StorageBalance {
  const args = requireObject(value, "args");
  requireOnlyKeys(args, "args", ["amount"]);
  const account = near.predecessorAccountId();
  const record = requireRegistered(account, "storage_withdraw");
  const available = BigInt(record.total) - BigInt(record.locked);
  const amount =
    args.amount === undefined || args.amount === null
      ? available
      : parseU128(args.amount, "amount");
  if (amount > available) {
    fail(`amount: ${amount} is more than the ${available} available`);
  }
  record.total = (BigInt(record.total) - amount).toString();
  writeRecord(storageKey(account), record);
  if (amount > 0n) {
    near.promiseBatchActionTransfer(near.promiseBatchCreate(account), amount);
  }
  const balance = view(record);
  emitEvent({
    event: "storage_withdraw",
    data: { account_id: account, amount: amount.toString(), ...balance },
  });
  return balance;
}

/** Consumes a flat fee for `purpose` (a job) from the account's available storage balance. */
export function chargeStorage(account: string, bytes: bigint, purpose: string): void {
  const record = requireRegistered(account, purpose);
  const fee = feeOf(bytes);
  const available = BigInt(record.total) - BigInt(record.locked);
  if (available < fee) {
    fail(
      `${account}'s available storage balance ${available} is less than the ${fee} a ${purpose} needs: call storage_deposit`,
    );
  }
  record.total = (BigInt(record.total) - fee).toString();
  writeRecord(storageKey(account), record);
}

/** True when the account could pay `bytes` now (checked before a job's funds are locked). */
export function canCharge(account: string, bytes: bigint): boolean {
  const record = read(account);
  return record !== null && BigInt(record.total) - BigInt(record.locked) >= feeOf(bytes);
}

/** Locks a flat fee while a record (allowance, approval request) exists. */
export function lockStorage(account: string, bytes: bigint, purpose: string): void {
  const record = requireRegistered(account, purpose);
  const fee = feeOf(bytes);
  const available = BigInt(record.total) - BigInt(record.locked);
  if (available < fee) {
    fail(
      `${account}'s available storage balance ${available} is less than the ${fee} a ${purpose} needs: call storage_deposit`,
    );
  }
  record.locked = (BigInt(record.locked) + fee).toString();
  writeRecord(storageKey(account), record);
}

export function unlockStorage(account: string, bytes: bigint): void {
  const record = read(account);
  if (record !== null) {
    record.locked = (BigInt(record.locked) - feeOf(bytes)).toString();
    writeRecord(storageKey(account), record);
  }
}
