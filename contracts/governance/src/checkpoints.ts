/**
 * Voting power checkpoints. Each delegate has an append-only list of (block height, votes) under
 * `ck:<account>:<i>` with its length under `cn:<account>`; a second change in the same block
 * overwrites the last entry. Past votes are found by binary search, so a vote counts the power
 * its voter had at the proposal's snapshot, whatever tokens moved since.
 */
import { near } from "near-sdk-js";
import { fail } from "../../common/src/errors.ts";
import type { Checkpoint } from "../../common/src/governance-types.ts";
import { emit } from "./events.ts";

const countKey = (account: string): string => `cn:${account}`;
const entryKey = (account: string, index: number): string => `ck:${account}:${index}`;

function count(account: string): number {
  const raw = near.storageRead(countKey(account));
  return raw === null ? 0 : Number(raw);
}

function entry(account: string, index: number): Checkpoint {
  const raw = near.storageRead(entryKey(account, index));
  if (raw === null) {
    fail(`internal: checkpoint ${index} of ${account} is missing`);
  }
  const [height, votes] = raw.split(":");
  return { block_height: Number(height), votes: votes ?? "0" };
}

export function currentVotes(account: string): bigint {
  const n = count(account);
  return n === 0 ? 0n : BigInt(entry(account, n - 1).votes);
}

/** Votes of `account` at the end of block `height`. */
export function votesAt(account: string, height: number): bigint {
  let low = 0;
  let high = count(account);
  // Find the first checkpoint above `height`; the one before it holds the answer.
  while (low < high) {
    const mid = Math.floor((low + high) / 2);
    if (entry(account, mid).block_height > height) {
      high = mid;
    } else {
      low = mid + 1;
    }
  }
  return low === 0 ? 0n : BigInt(entry(account, low - 1).votes);
}

export function listCheckpoints(account: string, from: number, limit: number): Checkpoint[] {
  const end = Math.min(count(account), from + limit);
  const out: Checkpoint[] = [];
  for (let i = from; i < end; i++) {
    out.push(entry(account, i));
  }
  return out;
}

function writeVotes(account: string, votes: bigint): void {
  const height = Number(near.blockHeight());
  const n = count(account);
  const previous = n === 0 ? 0n : BigInt(entry(account, n - 1).votes);
  const sameBlock = n > 0 && entry(account, n - 1).block_height === height;
  const index = sameBlock ? n - 1 : n;
  near.storageWrite(entryKey(account, index), `${height}:${votes}`);
  if (!sameBlock) {
    near.storageWrite(countKey(account), String(n + 1));
  }
  emit({
    event: "delegate_votes_changed",
    data: {
      delegate: account,
      previous_votes: previous.toString(),
      new_votes: votes.toString(),
      block_height: height,
    },
  });
}

/**
 * Moves `amount` of voting power from one delegate to another (null: undelegated tokens, which
 * count for nobody). Returns the storage bytes this added, for the caller to pay.
 */
export function moveVotes(from: string | null, to: string | null, amount: bigint): bigint {
  if (from === to || amount === 0n) {
    return 0n;
  }
  const before = near.storageUsage();
  if (from !== null) {
    const votes = currentVotes(from);
    if (votes < amount) {
      fail(`internal: ${from} has ${votes} votes, less than the ${amount} moved`);
    }
    writeVotes(from, votes - amount);
  }
  if (to !== null) {
    writeVotes(to, currentVotes(to) + amount);
  }
  const added = near.storageUsage() - before;
  return added > 0n ? added : 0n;
}
