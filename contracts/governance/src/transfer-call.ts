/**
 * ft_transfer_call: the transfer happens at once; the receiver's ft_on_transfer answers how much
 * it did not use, and ft_resolve_transfer gives that back to the sender (NEP-141).
 */
import { near } from "near-sdk-js";
import { fail } from "../../common/src/errors.ts";
import { parseU128 } from "../../common/src/u128.ts";
import { requireAccountId, requireString } from "../../common/src/validate.ts";
import { readAccount } from "./accounts.ts";
import { GAS, LIMITS } from "./state.ts";
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
    }),
    0n,
    GAS.ftResolve,
  );
  near.promiseReturn(resolve);
}

/** The amount the receiver kept. Checkpoints written by a refund are paid by the contract. */
export function resolveTransfer(args: Record<string, unknown>): string {
  const sender = requireAccountId(args.sender_id, "sender_id");
  const receiver = requireAccountId(args.receiver_id, "receiver_id");
  const amount = parseU128(args.amount, "amount");
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
  if (unused === 0n || receiverAccount === null || readAccount(sender) === null) {
    return amount.toString();
  }
  const held = BigInt(receiverAccount.b);
  const refund = held < unused ? held : unused;
  if (refund > 0n) {
    moveTokens(receiver, sender, refund, "refund");
  }
  return (amount - refund).toString();
}
