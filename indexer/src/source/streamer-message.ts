/**
 * The parts of NEAR Lake's StreamerMessage (near-indexer-primitives) the indexer reads, checked on
 * arrival: a block that does not have them is a source error, never silently skipped.
 */

export interface ReceiptOutcome {
  receiptId: string;
  executor: string;
  predecessor: string;
  logs: string[];
  succeeded: boolean;
  txHash: string | null;
}

export interface Shard {
  shardId: number;
  outcomes: ReceiptOutcome[];
}

export interface Block {
  height: number;
  hash: string;
  prevHash: string;
  /** Nanoseconds since the epoch, a u64 decimal string. */
  timestampNs: string;
  shards: Shard[];
}

export class BlockFormatError extends Error {
  override name = "BlockFormatError";
}

type Json = Record<string, unknown>;

function obj(value: unknown, path: string): Json {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new BlockFormatError(`${path}: expected an object`);
  }
  return value as Json;
}

function text(value: unknown, path: string): string {
  if (typeof value !== "string") {
    throw new BlockFormatError(`${path}: expected a string`);
  }
  return value;
}

function list(value: unknown, path: string): unknown[] {
  if (!Array.isArray(value)) {
    throw new BlockFormatError(`${path}: expected an array`);
  }
  return value;
}

function integer(value: unknown, path: string): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    throw new BlockFormatError(`${path}: expected a non-negative integer`);
  }
  return value;
}

/**
 * A receipt's execution succeeded when its status is SuccessValue or SuccessReceiptId; Failure
 * (and the Unknown of unexecuted outcomes) means its state changes, logged events included, were
 * rolled back.
 */
function succeeded(status: unknown): boolean {
  if (typeof status !== "object" || status === null) {
    return false;
  }
  return "SuccessValue" in status || "SuccessReceiptId" in status;
}

function receiptOutcome(value: unknown, path: string): ReceiptOutcome {
  const item = obj(value, path);
  const execution = obj(item.execution_outcome, `${path}.execution_outcome`);
  const outcome = obj(execution.outcome, `${path}.execution_outcome.outcome`);
  const receipt = obj(item.receipt, `${path}.receipt`);
  const logs = list(outcome.logs, `${path}.execution_outcome.outcome.logs`).map((line, i) =>
    text(line, `${path}.execution_outcome.outcome.logs[${i}]`),
  );
  const txHash = item.tx_hash;
  return {
    receiptId: text(execution.id, `${path}.execution_outcome.id`),
    executor: text(outcome.executor_id, `${path}.execution_outcome.outcome.executor_id`),
    predecessor: text(receipt.predecessor_id, `${path}.receipt.predecessor_id`),
    logs,
    succeeded: succeeded(outcome.status),
    txHash: typeof txHash === "string" ? txHash : null,
  };
}

/** Parses one StreamerMessage; throws BlockFormatError naming the first missing part. */
export function parseStreamerMessage(value: unknown): Block {
  const message = obj(value, "message");
  const header = obj(obj(message.block, "block").header, "block.header");
  const timestamp = header.timestamp_nanosec ?? header.timestamp;
  const timestampNs =
    typeof timestamp === "number" ? BigInt(timestamp).toString() : text(timestamp, "timestamp");
  if (!/^\d+$/.test(timestampNs)) {
    throw new BlockFormatError(`block.header.timestamp_nanosec: not a decimal integer`);
  }
  const shards = list(message.shards, "shards").map((raw, i): Shard => {
    const shard = obj(raw, `shards[${i}]`);
    return {
      shardId: integer(shard.shard_id, `shards[${i}].shard_id`),
      outcomes: list(
        shard.receipt_execution_outcomes,
        `shards[${i}].receipt_execution_outcomes`,
      ).map((o, j) => receiptOutcome(o, `shards[${i}].receipt_execution_outcomes[${j}]`)),
    };
  });
  return {
    height: integer(header.height, "block.header.height"),
    hash: text(header.hash, "block.header.hash"),
    prevHash: text(header.prev_hash, "block.header.prev_hash"),
    timestampNs,
    shards,
  };
}
