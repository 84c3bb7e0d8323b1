/**
 * Credited balances per (account, asset) and, per asset, the escrow's books: `escrowed` (held for
 * jobs) and `credited` (sum of balances). For every asset the contract holds at least
 * escrowed + credited; for a token exactly that (its ft_balance_of the escrow).
 */

import { fail } from "../../common/src/errors.ts";
import type { AssetTotals, BalanceEntry } from "../../common/src/escrow-types.ts";
import { readRecord, removeRecord, writeRecord } from "../../common/src/store.ts";
import { accountBalanceSet, balanceKey, totalsKey } from "./keys.ts";

export function getTotals(asset: string): AssetTotals {
  return readRecord<AssetTotals>(totalsKey(asset)) ?? { asset, escrowed: "0", credited: "0" };
}

function saveTotals(totals: AssetTotals): void {
  writeRecord(totalsKey(totals.asset), totals);
}

export function balanceOf(account: string, asset: string): bigint {
  const raw = readRecord<string>(balanceKey(account, asset));
  return raw === null ? 0n : BigInt(raw);
}

function setBalance(account: string, asset: string, amount: bigint): void {
  if (amount === 0n) {
    removeRecord(balanceKey(account, asset));
    accountBalanceSet(account).remove(asset);
  } else {
    writeRecord(balanceKey(account, asset), amount.toString());
    accountBalanceSet(account).add(asset);
  }
}

export function entry(account: string, asset: string): BalanceEntry {
  return { account_id: account, asset, amount: balanceOf(account, asset).toString() };
}

/** Funds arrive for a job (attached NEAR, or tokens received): escrowed grows. */
export function escrowIncoming(asset: string, amount: bigint): void {
  const totals = getTotals(asset);
  totals.escrowed = (BigInt(totals.escrowed) + amount).toString();
  saveTotals(totals);
}

/** Funds leave escrow without a balance (attached NEAR sent back): escrowed shrinks. */
export function escrowOutgoing(asset: string, amount: bigint): void {
  const totals = getTotals(asset);
  const escrowed = BigInt(totals.escrowed);
  if (escrowed < amount) {
    fail(`internal: ${amount} leaves escrow of ${asset}, which holds ${escrowed}`);
  }
  totals.escrowed = (escrowed - amount).toString();
  saveTotals(totals);
}

/** New money credited to an account (a prepaid deposit): credited grows. */
export function creditIncoming(account: string, asset: string, amount: bigint): void {
  setBalance(account, asset, balanceOf(account, asset) + amount);
  const totals = getTotals(asset);
  totals.credited = (BigInt(totals.credited) + amount).toString();
  saveTotals(totals);
}

/** Moves `amount` from escrow to an account's balance (payout, fee or refund). */
export function creditFromEscrow(account: string, asset: string, amount: bigint): void {
  if (amount === 0n) {
    return;
  }
  escrowOutgoing(asset, amount);
  creditIncoming(account, asset, amount);
}

/** Moves `amount` from an account's balance into escrow (a job paid from a prepaid balance). */
export function escrowFromBalance(account: string, asset: string, amount: bigint): void {
  debit(account, asset, amount, "job");
  escrowIncoming(asset, amount);
}

/** Takes `amount` off an account's balance and off credited (a withdrawal, or into escrow). */
export function debit(account: string, asset: string, amount: bigint, purpose: string): void {
  const balance = balanceOf(account, asset);
  if (balance < amount) {
    fail(
      `${account} has ${balance} ${asset} credited, less than the ${amount} needed for the ${purpose}`,
    );
  }
  setBalance(account, asset, balance - amount);
  const totals = getTotals(asset);
  totals.credited = (BigInt(totals.credited) - amount).toString();
  saveTotals(totals);
}

export function listBalances(account: string, from: number, limit: number): BalanceEntry[] {
  return accountBalanceSet(account)
    .page(from, limit)
    .map((asset) => entry(account, asset));
}
