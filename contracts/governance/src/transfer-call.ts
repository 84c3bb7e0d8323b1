/**
 * ft_transfer_call: the transfer happens at once; the receiver's ft_on_transfer answers how much
 * it did not use, and ft_resolve_transfer gives that back to the sender (NEP-141). The sender pays
 * for every checkpoint, the refund's too: a reserve is charged up front and settled to what the
 * refund wrote (a callback cannot fail for want of storage balance).
 */
import { near } from "near-sdk-js";
import { fail } from "../../common/src/errors.ts";
import { parseU64, parseU128 } from "../../common/src/u128.ts";
import { requireAccountId, requireString } from "../../common/src/validate.ts";
import { chargeStorage, readAccount, writeAccount } from "./accounts.ts";
import { ACCOUNT_RECORD_BYTES, GAS, LIMITS, REFUND_RESERVE_BYTES } from "./state.ts";
import { moveTokens, parseTransfer, transferBy } from "./token.ts";

export function transferCall(args: Record<string, unknown>): void {
  const transfer = parseTransfer(args);
  const msg = requireString(args.msg, "msg", 0, LIMITS.functionArgsBytes);
  const needed = GAS.ftOnTransfer + GAS.ftResolve + GAS.executeOverhead;
  if (near.prepaidGas() < needed) {
    fail(`ft_transfer_call needs at least ${needed / 1_000_000_000_000n} Tgas attached`);
  }
  const sender = near.predecessorAccountId();
  transferBy(sender, transfer);
  chargeStorage(sender, REFUND_RESERVE_BYTES);
  const onTransfer = near.promiseCreate(
    transfer.receiver,
    "ft_on_transfer",
    JSON.stringify({ sender_id: sender, amount: transfer.amount.toString(), msg }),
    0n,
    GAS.ftOnTransfer,
  );
  const resolve = near.promiseThen(
    onTransfer,
    near.currentAccountId(),
    "ft_resolve_transfer",
    JSON.stringify({
      sender_id: sender,
      receiver_id: transfer.receiver,
      amount: transfer.amount.toString(),
      reserve_bytes: REFUND_RESERVE_BYTES.toString(),
    }),
    0n,
    GAS.ftResolve,
  );
  near.promiseReturn(resolve);
}

/**
 * The amount the receiver kept. The sender's reserve (`reserve_bytes`; absent for a transfer made
 * by version 1) is settled to the bytes the refund's checkpoints took.
 */
export function resolveTransfer(args: Record<string, unknown>): string {
  const sender = requireAccountId(args.sender_id, "sender_id");
  const receiver = requireAccountId(args.receiver_id, "receiver_id");
  const amount = parseU128(args.amount, "amount");
  const reserve =
    args.reserve_bytes === undefined ? 0n : parseU64(args.reserve_bytes, "reserve_bytes");
  let unused = amount;
  try {
    const answer: unknown = JSON.parse(near.promiseResult(0));
    const returned = parseU128(answer, "ft_on_transfer result");
    if (returned < amount) {
      unused = returned;
    }
  } catch {
    // A failed receiver call or a malformed answer returns everything, as NEP-141 prescribes.
  }
  const receiverAccount = readAccount(receiver);
  let refund = 0n;
  let bytes = 0n;
  if (unused > 0n && receiverAccount !== null && readAccount(sender) !== null) {
    const held = BigInt(receiverAccount.b);
    refund = held < unused ? held : unused;
    if (refund > 0n) {
      bytes = moveTokens(receiver, sender, refund, "refund");
    }
  }
  settleReserve(sender, reserve, bytes);
  return (amount - refund).toString();
}

/** Replaces the sender's reserve by what the refund actually wrote (never failing). */
function settleReserve(sender: string, reserve: bigint, bytes: bigint): void {
  const account = readAccount(sender);
  if (account === null || reserve === bytes) {
    return;
  }
  const used = BigInt(account.u) - reserve + bytes;
  account.u = (used > ACCOUNT_RECORD_BYTES ? used : ACCOUNT_RECORD_BYTES).toString();
  writeAccount(sender, account);
}
