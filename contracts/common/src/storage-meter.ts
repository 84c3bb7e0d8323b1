/**
 * Storage accounting: whoever adds data pays for it, and freed data is paid back to whoever paid.
 *
 * A meter is started at the top of a change method. The caller's share is the growth of
 * storage_usage over the call, minus bytes freed from records someone else paid for (those go back
 * to their payer through `release` and `refundBytes`). `settle` then requires the attached deposit to cover the
 * caller's bytes at storage_byte_cost plus any extra amount (a bond), and sends back the surplus,
 * the caller's freed bytes and the other payers' refunds as transfers.
 */
import { near } from "near-sdk-js";
import { fail } from "./errors.ts";

export interface Settlement {
  /** Bytes charged to the caller (negative: freed and refunded). */
  bytes: bigint;
  /** yoctoNEAR kept for storage. */
  storage_cost: bigint;
  /** yoctoNEAR sent back to the caller. */
  refund: bigint;
}

export class StorageMeter {
  private readonly before: bigint;
  private releasedBytes = 0n;
  private readonly refunds = new Map<string, bigint>();

  constructor() {
    this.before = near.storageUsage();
  }

  /** Runs `remove`, which frees records someone else paid for: those bytes are not the caller's. */
  release(remove: () => void): void {
    const start = near.storageUsage();
    remove();
    this.releasedBytes += start - near.storageUsage();
  }

  /** Pays `bytes` of storage back to `payer`, who paid that much for a released record. */
  refundBytes(payer: string, bytes: bigint): void {
    this.credit(payer, bytes * near.storageByteCost());
  }

  /** Bytes the caller's own changes added so far (negative when they freed more than added). */
  callerBytes(): bigint {
    return near.storageUsage() - this.before + this.releasedBytes;
  }

  /**
   * Charges the caller for its bytes plus `extra` (named `extraLabel` in errors) from the attached
   * deposit and schedules every refund. With `flatBytes`, the caller pays that fixed amount
   * instead of the measured one, which must not exceed it (fixed fees make refunds exact).
   */
  settle(extra = 0n, extraLabel = "", flatBytes?: bigint): Settlement {
    const payer = near.predecessorAccountId();
    const cost = near.storageByteCost();
    const measured = this.callerBytes();
    if (flatBytes !== undefined && measured > flatBytes) {
      fail(`internal: ${measured} bytes stored, more than the fixed ${flatBytes} charged`);
    }
    const bytes = flatBytes ?? measured;
    const storageCost = bytes > 0n ? bytes * cost : 0n;
    const required = storageCost + extra;
    const attached = near.attachedDeposit();
    if (attached < required) {
      const extraText = extra > 0n ? ` + ${extraLabel} ${extra}` : "";
      fail(
        `attached deposit ${attached} is less than the ${required} required ` +
          `(storage ${bytes} bytes x ${cost}${extraText})`,
      );
    }
    const refund = attached - required + (bytes < 0n ? -bytes * cost : 0n);
    this.credit(payer, refund);
    this.sendRefunds();
    return { bytes, storage_cost: storageCost, refund };
  }

  private credit(account: string, amount: bigint): void {
    if (amount > 0n) {
      this.refunds.set(account, (this.refunds.get(account) ?? 0n) + amount);
    }
  }

  private sendRefunds(): void {
    for (const [account, amount] of this.refunds) {
      const promise = near.promiseBatchCreate(account);
      near.promiseBatchActionTransfer(promise, amount);
    }
    this.refunds.clear();
  }
}

/** Sends `amount` yoctoNEAR to `account` (a bond, a slash to the treasury). */
export function transfer(account: string, amount: bigint): void {
  if (amount > 0n) {
    const promise = near.promiseBatchCreate(account);
    near.promiseBatchActionTransfer(promise, amount);
  }
}
