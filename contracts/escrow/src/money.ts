/** How a job's escrowed amount is split. Host-independent, so unit-tested in Node. */

export const BPS_DENOMINATOR = 10_000n;

/** What the client owes for `usage` units: usage x price, never more than the escrowed maximum. */
export function amountDue(maxAmount: bigint, usage: bigint, pricePerUnit: bigint): bigint {
  const cost = usage * pricePerUnit;
  return cost < maxAmount ? cost : maxAmount;
}

export interface Split {
  /** Credited to the provider. */
  provider: bigint;
  /** Credited to the treasury. */
  fee: bigint;
  /** Credited back to the payer. */
  refund: bigint;
}

/**
 * Splits `maxAmount` when `paid` of it goes to the provider side: the fee (rounded down) is taken
 * from `paid`, the rest of `maxAmount` goes back to the payer. The three parts sum to maxAmount.
 */
export function splitPayment(maxAmount: bigint, paid: bigint, feeBps: number): Split {
  if (paid < 0n || paid > maxAmount) {
    throw new Error(`internal: paid ${paid} is outside 0..${maxAmount}`);
  }
  const fee = (paid * BigInt(feeBps)) / BPS_DENOMINATOR;
  return { provider: paid - fee, fee, refund: maxAmount - paid };
}
