/**
 * Stored spending allowances and their periods. A period that has ended starts a new one with
 * nothing spent; what a refused job had taken from its period is given back to that period only.
 */
import { near } from "near-sdk-js";
import type { Allowance } from "../../common/src/escrow-types.ts";
import { readRecord, writeRecord } from "../../common/src/store.ts";
import { allowanceKey } from "./keys.ts";

export function getAllowance(owner: string, spender: string, asset: string): Allowance | null {
  return readRecord<Allowance>(allowanceKey(owner, spender, asset));
}

export function saveAllowance(allowance: Allowance): void {
  writeRecord(allowanceKey(allowance.owner, allowance.spender, allowance.asset), allowance);
}

/** The allowance as of now: a period that has ended starts a new one with nothing spent. */
export function currentPeriod(allowance: Allowance): Allowance {
  const now = near.blockTimestamp();
  const start = BigInt(allowance.period_start);
  const period = BigInt(allowance.period_ns);
  if (now < start + period) {
    return allowance;
  }
  const elapsedPeriods = (now - start) / period;
  return { ...allowance, period_start: (start + elapsedPeriods * period).toString(), spent: "0" };
}

/** Whose allowance a request spends: the payer's, for the client (the spender). */
export interface AllowanceUse {
  payer: string;
  client: string;
  asset: string;
}

/**
 * Gives a refused request's `amount` back to the allowance it was spent from, if that allowance and
 * its period (`spentInPeriod`) are still the current ones; returns the allowance saved, or null.
 */
export function returnToAllowance(
  use: AllowanceUse,
  amount: bigint,
  spentInPeriod: string,
): Allowance | null {
  const stored = getAllowance(use.payer, use.client, use.asset);
  if (stored === null) {
    return null;
  }
  const allowance = currentPeriod(stored);
  if (allowance.period_start !== spentInPeriod) {
    return null;
  }
  const spent = BigInt(allowance.spent) - amount;
  allowance.spent = (spent > 0n ? spent : 0n).toString();
  saveAllowance(allowance);
  return allowance;
}
