/**
 * Token accounts: `a:<account>` holds the balance, the delegate and the NEP-145 storage balance
 * (yoctoNEAR deposited, bytes charged, and the part of the deposit the contract granted). Bytes
 * charged start at the flat record size and grow with the checkpoints the account's own transfers
 * and delegations write. `so` holds what the contract owes all accounts together (what each would
 * get back by unregistering), which the treasury may not spend.
 */
import { near } from "near-sdk-js";
import { fail } from "../../common/src/errors.ts";
import type { StorageBalance } from "../../common/src/governance-types.ts";
import { ACCOUNT_RECORD_BYTES, CHECKPOINT_ALLOWANCE_BYTES } from "./state.ts";

export interface Account {
  /** Token balance. */
  b: string;
  /** Delegate, or null when the account has not delegated (its tokens then count for nobody). */
  d: string | null;
  /** NEP-145 deposit, yoctoNEAR. */
  t: string;
  /** Storage bytes charged against the deposit. */
  u: string;
  /**
   * yoctoNEAR of the deposit the contract paid (initial holders' registration), never withdrawn
   * or refunded; "0" for accounts that paid their own. Absent in records of version 1, which
   * `so` does not count until they are written again.
   */
  g?: string;
}

const OWED_KEY = "so";

const accountKey = (id: string): string => `a:${id}`;

export function readAccount(id: string): Account | null {
  const raw = near.storageRead(accountKey(id));
  return raw === null ? null : (JSON.parse(raw) as Account);
}

export function requireAccount(id: string, field: string): Account {
  const account = readAccount(id);
  if (account === null) {
    fail(`${field}: ${id} is not registered with the token: call storage_deposit first`);
  }
  return account;
}

/** What the contract owes all token accounts together (see refundOf). */
export function totalOwed(): bigint {
  const raw = near.storageRead(OWED_KEY);
  return raw === null ? 0n : BigInt(raw);
}

/** An account's share of totalOwed: its refund, once its record counts (has `g`). */
function owedBy(account: Account | null): bigint {
  return account === null || account.g === undefined ? 0n : refundOf(account);
}

function addOwed(delta: bigint): void {
  if (delta !== 0n) {
    near.storageWrite(OWED_KEY, (totalOwed() + delta).toString());
  }
}

export function writeAccount(id: string, account: Account): void {
  const before = owedBy(readAccount(id));
  account.g ??= "0";
  near.storageWrite(accountKey(id), JSON.stringify(account));
  addOwed(owedBy(account) - before);
}

export function removeAccount(id: string): void {
  addOwed(-owedBy(readAccount(id)));
  near.storageRemove(accountKey(id));
}

export function minStorageBalance(): bigint {
  return (ACCOUNT_RECORD_BYTES + CHECKPOINT_ALLOWANCE_BYTES) * near.storageByteCost();
}

/** A new account with `deposit`, of which `granted` the contract paid. */
export function newAccount(deposit: bigint, granted = 0n): Account {
  return {
    b: "0",
    d: null,
    t: deposit.toString(),
    u: ACCOUNT_RECORD_BYTES.toString(),
    g: granted.toString(),
  };
}

function grantOf(account: Account): bigint {
  return BigInt(account.g ?? "0");
}

/** Withdrawable: the deposit less what is charged, and less the grant (the contract's). */
export function storageBalanceOf(account: Account): StorageBalance {
  const used = BigInt(account.u) * near.storageByteCost();
  const kept = used > grantOf(account) ? used : grantOf(account);
  const total = BigInt(account.t);
  return { total: account.t, available: (total > kept ? total - kept : 0n).toString() };
}

/**
 * What storage_unregister pays back: the deposit less the bytes charged beyond the record (whose
 * bytes are freed), and nothing of the grant, which also covers the bytes charged up to its size.
 */
export function refundOf(account: Account): bigint {
  const cost = near.storageByteCost();
  const grant = grantOf(account);
  const spent = (BigInt(account.u) - ACCOUNT_RECORD_BYTES) * cost;
  const covered = grant > 0n ? grant - ACCOUNT_RECORD_BYTES * cost : 0n;
  const beyond = spent > covered ? spent - covered : 0n;
  const refund = BigInt(account.t) - grant - beyond;
  return refund > 0n ? refund : 0n;
}

/** Charges `bytes` of checkpoints to `id`'s storage balance; fails when it does not cover them. */
export function chargeStorage(id: string, bytes: bigint): void {
  if (bytes <= 0n) {
    return;
  }
  const account = requireAccount(id, "storage");
  const used = BigInt(account.u) + bytes;
  const needed = used * near.storageByteCost();
  if (needed > BigInt(account.t)) {
    fail(
      `storage balance of ${id} is too low: ${account.t} yoctoNEAR deposited, ${needed} needed ` +
        `(${used} bytes including ${bytes} of new voting checkpoints): call storage_deposit`,
    );
  }
  account.u = used.toString();
  writeAccount(id, account);
}
