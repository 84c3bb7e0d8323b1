/**
 * StreamerMessages of a contract that logs given events, one block per list of events (one
 * receipt per event, shard 0), at consecutive heights from 1, for tests that build events per the
 * shared types instead of running the contract.
 */

export interface LoggedEvent {
  event: string;
  data: unknown;
  /** Who called the contract (the receipt's predecessor). */
  predecessor: string;
}

export const CHAIN_START_NS = 1_800_000_000_000_000_000n;
const BLOCK_NS = 1_000_000_000n;

/** The block timestamp of `height` in the chains built here. */
export function timestampAt(height: number): bigint {
  return CHAIN_START_NS + BigInt(height) * BLOCK_NS;
}

const hashOf = (height: number): string => `event-chain-block-${height}`;

export function eventChain(contract: string, blocks: LoggedEvent[][]): Record<string, unknown>[] {
  return blocks.map((events, i) => {
    const height = i + 1;
    const timestamp = timestampAt(height);
    return {
      block: {
        author: "test.near",
        chunks: [
          {
            chunk_hash: `event-chain-chunk-${height}`,
            shard_id: 0,
            height_created: height,
            height_included: height,
          },
        ],
        header: {
          height,
          prev_height: height - 1,
          hash: hashOf(height),
          prev_hash: hashOf(height - 1),
          timestamp: Number(timestamp),
          timestamp_nanosec: timestamp.toString(),
        },
      },
      shards: [
        {
          shard_id: 0,
          receipt_execution_outcomes: events.map((item, j) => ({
            execution_outcome: {
              id: `receipt-${height}-${j}`,
              outcome: {
                logs: [
                  `EVENT_JSON:${JSON.stringify({ standard: "gpumarket", version: "1.0.0", event: item.event, data: [item.data] })}`,
                ],
                executor_id: contract,
                status: { SuccessValue: "" },
                receipt_ids: [],
                gas_burnt: 10_000_000_000_000,
                tokens_burnt: "1000000000000000000000",
              },
            },
            receipt: {
              receipt_id: `receipt-${height}-${j}`,
              predecessor_id: item.predecessor,
              receiver_id: contract,
            },
            tx_hash: `tx-${height}-${j}`,
          })),
        },
      ],
    };
  });
}
