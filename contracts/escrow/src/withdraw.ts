/**
 * Withdrawals (pull payments). The balance is debited first and the transfer scheduled (NEAR, or
 * ft_transfer with 1 yoctoNEAR); the callback restores the balance if the transfer failed.
 */
import { near, type PromiseIndex } from "near-sdk-js";
import { fail } from "../../common/src/errors.ts";
import { type BalanceEntry, NEAR_ASSET } from "../../common/src/escrow-types.ts";
import { emitEvent } from "../../common/src/events.ts";
import { parseU128 } from "../../common/src/u128.ts";
import { parseAsset } from "./assets.ts";
import { balanceOf, creditIncoming, debit, entry } from "./balances.ts";
import { GAS, TGAS } from "./state.ts";

const GAS_MARGIN = 10n * TGAS;

export function startWithdrawal(args: Record<string, unknown>): void {
  if (near.attachedDeposit() !== 1n) {
    fail("withdraw requires an attached deposit of exactly 1 yoctoNEAR");
  }
  const account = near.predecessorAccountId();
  const asset = parseAsset(args.asset, "asset");
  const amount =
    args.amount === undefined || args.amount === null
      ? balanceOf(account, asset)
      : parseU128(args.amount, "amount");
  if (amount === 0n) {
    fail(`amount: nothing to withdraw (${account} has no ${asset} credited)`);
  }
  const needed = (asset === NEAR_ASSET ? 0n : GAS.ftTransfer) + GAS.withdrawCallback + GAS_MARGIN;
  if (near.prepaidGas() - near.usedGas() < needed) {
    fail(`not enough gas: withdraw needs at least ${needed} more`);
  }
  debit(account, asset, amount, "withdrawal");
  let transfer: PromiseIndex;
  if (asset === NEAR_ASSET) {
    transfer = near.promiseBatchCreate(account);
    near.promiseBatchActionTransfer(transfer, amount);
  } else {
    transfer = near.promiseCreate(
      asset,
      "ft_transfer",
      JSON.stringify({
        receiver_id: account,
        amount: amount.toString(),
        memo: "gpumarket withdrawal",
      }),
      1n,
      GAS.ftTransfer,
    );
  }
  const callback = near.promiseThen(
    transfer,
    near.currentAccountId(),
    "on_withdraw",
    JSON.stringify({ account_id: account, asset, amount: amount.toString() }),
    0n,
    GAS.withdrawCallback,
  );
  emitEvent({
    event: "withdraw",
    data: { ...entry(account, asset), withdrawn: amount.toString() },
  });
  near.promiseReturn(callback);
}

/** Private callback: true when the transfer went through, else the balance is restored. */
export function onWithdraw(args: Record<string, unknown>): boolean {
  const account = args.account_id as string;
  const asset = args.asset as string;
  const amount = BigInt(args.amount as string);
  try {
    near.promiseResult(0);
    return true;
  } catch {
    creditIncoming(account, asset, amount);
    const data: BalanceEntry & { restored: string } = {
      ...entry(account, asset),
      restored: amount.toString(),
    };
    emitEvent({ event: "withdraw_failed", data });
    return false;
  }
}
