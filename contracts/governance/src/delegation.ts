/** Delegation: an account's tokens count as votes for its delegate (itself or another account). */
import { near } from "near-sdk-js";
import { fail } from "../../common/src/errors.ts";
import { requireAccountId } from "../../common/src/validate.ts";
import { chargeStorage, requireAccount, writeAccount } from "./accounts.ts";
import { moveVotes } from "./checkpoints.ts";
import { emit } from "./events.ts";
import { assertOneYocto } from "./token.ts";

export function delegate(args: Record<string, unknown>): string {
  assertOneYocto("delegate");
  const delegator = near.predecessorAccountId();
  const delegatee = requireAccountId(args.delegatee, "delegatee");
  const account = requireAccount(delegator, "delegator");
  const previous = account.d;
  if (previous === delegatee) {
    fail(`delegatee: ${delegator} already delegates to ${delegatee}`);
  }
  account.d = delegatee;
  writeAccount(delegator, account);
  emit({
    event: "delegate_changed",
    data: { delegator, from_delegate: previous, to_delegate: delegatee },
  });
  chargeStorage(delegator, moveVotes(previous, delegatee, BigInt(account.b)));
  return delegatee;
}
