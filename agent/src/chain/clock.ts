/**
 * The chain's time as the agent estimates it: the wall clock plus the largest lead of a block's
 * timestamp over the wall clock at the moment the block was seen. Session expiries and dispute
 * deadlines are block times; a node's clock may run ahead of this host's (localnet fast-forwards
 * it), and a block seen late only lowers the lead, so the largest one is the best estimate.
 */
export class ChainClock {
  #leadNs: bigint | null = null;

  observe(blockTimestampNs: bigint, seenAtMs = Date.now()): void {
    const lead = blockTimestampNs - BigInt(seenAtMs) * 1_000_000n;
    if (this.#leadNs === null || lead > this.#leadNs) this.#leadNs = lead;
  }

  nowNs(): bigint {
    return BigInt(Date.now()) * 1_000_000n + (this.#leadNs ?? 0n);
  }
}
