/** NEP-141 transfers. Moving tokens moves their voting power between the holders' delegates. */
import { near } from "near-sdk-js";
import { fail } from "../../common/src/errors.ts";
import { parseU128 } from "../../common/src/u128.ts";
import { requireAccountId, requireText } from "../../common/src/validate.ts";
import { chargeStorage, readAccount, requireAccount, writeAccount } from "./accounts.ts";
import { moveVotes } from "./checkpoints.ts";
import { emitTransfer } from "./events.ts";
import { LIMITS } from "./state.ts";

export interface TransferArgs {
  receiver: string;
  amount: bigint;
  memo: string | null;
}

export function assertOneYocto(method: string): void {
  if (near.attachedDeposit() !== 1n) {
    fail(`${method} requires exactly 1 yoctoNEAR attached (got ${near.attachedDeposit()})`);
  }
}

export function parseTransfer(args: Record<string, unknown>): TransferArgs {
  const receiver = requireAccountId(args.receiver_id, "receiver_id");
  const amount = parseU128(args.amount, "amount");
  if (amount === 0n) {
    fail("amount: must be greater than 0");
  }
  const memo =
    args.memo === undefined || args.memo === null
      ? null
      : requireText(args.memo, "memo", 0, LIMITS.memoChars);
  return { receiver, amount, memo };
}

/**
 * Moves `amount` from `from` to `to` with their votes; returns the checkpoint bytes written. The
 * caller decides who pays for them.
 */
export function moveTokens(from: string, to: string, amount: bigint, memo: string | null): bigint {
  if (from === to) {
    fail(`receiver_id: ${to} is the sender`);
  }
  const sender = requireAccount(from, "sender");
  const receiver = requireAccount(to, "receiver_id");
  const balance = BigInt(sender.b);
  if (balance < amount) {
    fail(`amount: ${from} holds ${balance}, less than ${amount}`);
  }
  sender.b = (balance - amount).toString();
  receiver.b = (BigInt(receiver.b) + amount).toString();
  writeAccount(from, sender);
  writeAccount(to, receiver);
  emitTransfer(from, to, amount, memo);
  return moveVotes(sender.d, receiver.d, amount);
}

/** A transfer signed by `from`, who pays for the checkpoints it writes. */
export function transferBy(from: string, transfer: TransferArgs): void {
  const bytes = moveTokens(from, transfer.receiver, transfer.amount, transfer.memo);
  chargeStorage(from, bytes);
}

export function balanceOf(id: string): bigint {
  const account = readAccount(id);
  return account === null ? 0n : BigInt(account.b);
}
