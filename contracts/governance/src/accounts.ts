/**
 * Token accounts: `a:<account>` holds the balance, the delegate and the NEP-145 storage balance
 * (yoctoNEAR deposited, bytes charged). Bytes charged start at the flat record size and grow with
 * the checkpoints the account's own transfers and delegations write.
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
}

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

export function writeAccount(id: string, account: Account): void {
  near.storageWrite(accountKey(id), JSON.stringify(account));
}

export function removeAccount(id: string): void {
  near.storageRemove(accountKey(id));
}

export function minStorageBalance(): bigint {
  return (ACCOUNT_RECORD_BYTES + CHECKPOINT_ALLOWANCE_BYTES) * near.storageByteCost();
}

export function newAccount(deposit: bigint): Account {
  return { b: "0", d: null, t: deposit.toString(), u: ACCOUNT_RECORD_BYTES.toString() };
}

export function storageBalanceOf(account: Account): StorageBalance {
  const used = BigInt(account.u) * near.storageByteCost();
  const total = BigInt(account.t);
  return { total: account.t, available: (total > used ? total - used : 0n).toString() };
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
