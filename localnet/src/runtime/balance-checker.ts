/**
 * Token conservation (nearcore balance_checker.rs): every account's amount + locked, plus what
 * receipts in flight carry (deposits and prepaid gas at their gas price), plus everything burnt,
 * equals the initial supply.
 */
import type { RuntimeConfig } from "../config/runtime-config.ts";
import { isSystemAccount } from "./account-id.ts";
import {
  feeTable,
  totalDeposit,
  totalPrepaidExecFees,
  totalPrepaidGas,
  totalPrepaidSendFees,
} from "./fees.ts";
import type { MemoryStateStore } from "./state-store.ts";
import type { Receipt } from "./types.ts";

/** Tokens a receipt carries until it is applied. */
export function receiptValue(config: RuntimeConfig, receipt: Receipt): bigint {
  const body = receipt.body;
  if (body.kind === "data") return 0n;
  let value = totalDeposit(body.actions);
  if (!isSystemAccount(receipt.predecessorId)) {
    const t = feeTable(config);
    const gas =
      t.actionReceipt.exec +
      totalPrepaidExecFees(t, body.actions, receipt.receiverId) +
      totalPrepaidGas(body.actions) +
      totalPrepaidSendFees(t, body.actions);
    value += gas * body.gasPrice;
  }
  return value;
}

/** Balances of all accounts plus the value of in-flight, postponed and delayed receipts. */
export function totalSupply(
  store: MemoryStateStore,
  config: RuntimeConfig,
  inFlight: Receipt[],
): bigint {
  let total = store.totalBalance();
  for (const r of inFlight) total += receiptValue(config, r);
  for (const r of store.columns.postponedReceipt.current.values()) total += receiptValue(config, r);
  for (const r of store.columns.delayedReceipt.current.values()) total += receiptValue(config, r);
  return total;
}
