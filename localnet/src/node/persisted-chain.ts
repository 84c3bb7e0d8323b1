/**
 * A node's chain kept under its home folder (HOME/data/chain.log): one record per produced block
 * holding the block as the chain store keeps it (header fields, chunk, outcomes, state changes),
 * the block's state writes and the fast-forward clock offset. A restart re-adds the blocks and
 * re-applies the writes in order, so the chain, its outcomes and the state versions the runtime
 * retains come back exactly as they were, without executing anything again.
 *
 * Records are V8-serialized (node:v8, whose format Node keeps readable by later versions). Bump
 * FORMAT when the shape of Block, Receipt, Action or a state column changes: an old log is then
 * refused with a clear error instead of being read into the wrong shape.
 */
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { deserialize, serialize } from "node:v8";
import type { Block } from "./chain.ts";
import { ChainLog, ChainLogError } from "./chain-log.ts";
import { sha256 } from "./encoding.ts";
import type { Genesis } from "./genesis.ts";
import { lockHome } from "./home-lock.ts";
import type { StateWrites } from "./state-writes.ts";

export const FORMAT = 1;

export interface PersistedBlock {
  block: Block;
  writes: StateWrites;
  /** The node's clock offset after this block (sandbox_fast_forward moves time ahead). */
  clockOffsetNs: bigint;
}

/** What a node needs to resume a chain and to keep it. */
export interface ChainPersistence {
  /** Blocks of earlier runs, oldest first (each decoded when reached). */
  readonly blocks: Iterable<PersistedBlock>;
  /** Writes a block durably; called before the block becomes visible. */
  append(entry: PersistedBlock): void;
  close(): void;
}

export function chainLogPath(home: string): string {
  return join(home, "data", "chain.log");
}

export function hasPersistedChain(home: string): boolean {
  return existsSync(chainLogPath(home));
}

/** Ties a log to its genesis: the same genesis.json always gives the same identity. */
export function genesisIdentity(genesis: Genesis): Uint8Array {
  return sha256(
    new TextEncoder().encode(JSON.stringify({ config: genesis.config, records: genesis.records })),
  );
}

function isHash(value: unknown): boolean {
  return value instanceof Uint8Array && value.length === 32;
}

function decode(path: string, index: number, payload: Uint8Array): PersistedBlock {
  let value: unknown;
  try {
    value = deserialize(payload);
  } catch (error) {
    throw new ChainLogError(
      `${path}: record ${index + 1} cannot be decoded: ${(error as Error).message}`,
    );
  }
  const entry = value as Partial<PersistedBlock> | null;
  const block = entry?.block as Partial<Block> | undefined;
  if (
    typeof entry?.clockOffsetNs !== "bigint" ||
    typeof entry.writes !== "object" ||
    entry.writes === null ||
    typeof block?.height !== "bigint" ||
    !isHash(block.hash) ||
    !isHash(block.prevHash) ||
    typeof block.chunk !== "object" ||
    !Array.isArray(block.transactionOutcomes)
  ) {
    throw new ChainLogError(`${path}: record ${index + 1} is not a persisted block`);
  }
  return entry as PersistedBlock;
}

export interface OpenedChain extends ChainPersistence {
  /** Bytes of a torn last record dropped on opening (a crash while writing it). */
  readonly droppedBytes: number;
  readonly path: string;
}

/**
 * The chain log a node on `home` uses: the existing one whenever there is one (a persisted home
 * never silently restarts from genesis), a new one when `persist` asks for it, otherwise none.
 */
export function persistenceFor(
  home: string,
  genesis: Genesis,
  persist: boolean,
): OpenedChain | null {
  if (!persist && !hasPersistedChain(home)) return null;
  return openPersistedChain(home, genesis);
}

/**
 * Opens (or starts) the chain log of `home` for `genesis` and locks the home against a second
 * node. Throws ChainLogError for a log of another format or chain, or a corrupt one.
 */
export function openPersistedChain(home: string, genesis: Genesis): OpenedChain {
  const path = chainLogPath(home);
  mkdirSync(join(home, "data"), { recursive: true });
  const unlock = lockHome(join(home, "data", "LOCK"), home);
  let opened: ReturnType<typeof ChainLog.open>;
  try {
    opened = ChainLog.open(path, FORMAT, genesisIdentity(genesis));
  } catch (error) {
    unlock();
    throw error;
  }
  const { log, records, droppedBytes } = opened;
  let closed = false;
  return {
    path,
    droppedBytes,
    blocks: {
      *[Symbol.iterator]() {
        for (const [index, payload] of records.entries()) yield decode(path, index, payload);
      },
    },
    append(entry) {
      log.append(serialize(entry));
    },
    close() {
      if (closed) return;
      closed = true;
      log.close();
      unlock();
    },
  };
}
