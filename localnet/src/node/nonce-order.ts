/**
 * nearcore's transaction pool hands out each access key's transactions in nonce order, whatever
 * order they arrived in (concurrent requests from one account arrive shuffled). Without it, a
 * higher nonce applied first would make the lower ones invalid at apply time.
 */
import type { SignedTransaction } from "../runtime/types.ts";
import { hexKey } from "./encoding.ts";

/** The pool with each (signer, key)'s transactions sorted by nonce, in the slots they held. */
export function inNonceOrder(pool: readonly SignedTransaction[]): SignedTransaction[] {
  const slotsByKey = new Map<string, number[]>();
  pool.forEach((tx, index) => {
    const { signerId, publicKey } = tx.transaction;
    const key = `${signerId} ${publicKey.keyType}${hexKey(publicKey.data)}`;
    const slots = slotsByKey.get(key);
    if (slots) slots.push(index);
    else slotsByKey.set(key, [index]);
  });
  const out = [...pool];
  for (const slots of slotsByKey.values()) {
    if (slots.length < 2) continue;
    const sorted = slots
      .map((slot) => pool[slot] as SignedTransaction)
      .sort((a, b) =>
        a.transaction.nonce < b.transaction.nonce
          ? -1
          : a.transaction.nonce > b.transaction.nonce
            ? 1
            : 0,
      );
    slots.forEach((slot, i) => {
      out[slot] = sorted[i] as SignedTransaction;
    });
  }
  return out;
}
