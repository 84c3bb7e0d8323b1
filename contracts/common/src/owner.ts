/** Governance-only methods: the owner is the governance account given at init. */
import { near } from "near-sdk-js";
import { fail } from "./errors.ts";

export function assertOwner(owner: string, method: string): void {
  const caller = near.predecessorAccountId();
  if (caller !== owner) {
    fail(`only the owner (${owner}) may call ${method}; called by ${caller}`);
  }
}

/** For methods that move no money: an attached deposit would otherwise stay in the contract. */
export function assertNoDeposit(method: string): void {
  const attached = near.attachedDeposit();
  if (attached > 0n) {
    fail(`${method} takes no deposit (attached ${attached})`);
  }
}
