/**
 * The indexing loop: blocks from the cursor on, decoded and applied; each batch of consecutive
 * blocks (one block at the tip, every block already fetched while catching up, up to a limit) is
 * written in one transaction together with the cursor, so stopping at any moment loses and
 * duplicates nothing. Fetching and decoding the next batch overlap writing the current one.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type pg from "pg";
import {
  applyBatch,
  type BatchResult,
  type BlockEvents,
  batchCatalog,
} from "./apply/apply-batch.ts";
import { RowCache } from "./apply/state.ts";
import type { Catalog } from "./db/catalog.ts";
import { type Cursor, cursorMismatch, readCursorOn, writeCursor } from "./db/cursor.ts";
import { inTransaction } from "./db/database.ts";
import type { Contracts } from "./decode/contracts.ts";
import { decodeBlock } from "./decode/decode-block.ts";
import type { Logger } from "./log.ts";
import type { BlockSource } from "./source/block-source.ts";
import { BlockStream, type StreamItem } from "./source/block-stream.ts";
import { backoffMs } from "./source/retry.ts";

export interface IndexerOptions {
  /** The database; the indexer writes through one connection of it at a time. */
  pool: pg.Pool;
  source: BlockSource;
  contracts: Contracts;
  network: string;
  /** First height to index when the database has no cursor yet. */
  startHeight?: number;
  log: Logger;
  /** Heights fetched ahead while catching up (default 256). */
  prefetch?: number;
  /** Block requests in flight at once while catching up (default 32). */
  fetchConcurrency?: number;
  /** Most blocks written in one transaction while catching up. */
  batchBlocks?: number;
  /** Most events in one transaction (a batch ends at the block that reaches it). */
  batchEvents?: number;
  tipPollMs?: number;
  /** Called inside each batch's transaction after its rows are written, before the commit. */
  beforeCommit?: (heights: number[]) => void | Promise<void>;
}

export interface IndexerStatus {
  /** Last committed height (-1 before the first block). */
  height: number;
  blockTimestampNs: string | null;
  /** Newest final height the source reported. */
  finalHeight: number;
  blocks: number;
  events: number;
  /** Events recorded but not applied since start (unknown, invalid, inconsistent). */
  problems: number;
  lastError: string | null;
  lastErrorAt: string | null;
}

/** The chain the source serves is not the one the database indexed: nothing retries that. */
export class ChainMismatchError extends Error {
  override name = "ChainMismatchError";
}

/** A batch as the loop carries it: the stream's items, and each block's decoded events. */
interface Batch {
  items: StreamItem[];
  events: number;
  decoded: Map<number, BlockEvents>;
}

export class Indexer {
  readonly status: IndexerStatus = {
    height: -1,
    blockTimestampNs: null,
    finalHeight: -1,
    blocks: 0,
    events: 0,
    problems: 0,
    lastError: null,
    lastErrorAt: null,
  };
  #options: IndexerOptions;
  #cursor: Cursor | null = null;
  #catalog: Catalog | null = null;
  #cache = new RowCache();

  constructor(options: IndexerOptions) {
    this.#options = options;
  }

  /** Reads the cursor and checks it was written under the same network and contracts. */
  async prepare(): Promise<void> {
    const { pool, network, contracts, startHeight } = this.#options;
    const client = await pool.connect();
    let cursor: Cursor | null;
    try {
      cursor = await readCursorOn(client);
    } finally {
      client.release();
    }
    if (cursor !== null) {
      const mismatch = cursorMismatch(cursor, network, contracts);
      if (mismatch !== null) {
        throw new Error(`${mismatch}: use another database or re-index (--reindex-from)`);
      }
      this.#cursor = cursor;
      this.status.height = cursor.height;
      this.status.blockTimestampNs = cursor.blockTimestampNs;
      return;
    }
    if (startHeight === undefined) {
      throw new Error(
        "the database has no cursor yet: give the start height (--start-height, the block the contracts were deployed at or earlier)",
      );
    }
    this.#cursor = {
      network,
      contracts,
      height: startHeight - 1,
      blockHash: "",
      blockTimestampNs: "0",
    };
  }

  /** Keeps the latest error for /health (source retries report theirs here too). */
  recordError(what: string, error: unknown): void {
    this.status.lastError = `${what}: ${error instanceof Error ? error.message : String(error)}`;
    this.status.lastErrorAt = new Date().toISOString();
  }

  /** The next batch: one block (waiting for it), then every block already fetched, decoded. */
  async #nextBatch(stream: BlockStream): Promise<Batch> {
    const maxBlocks = Math.max(1, this.#options.batchBlocks ?? 200);
    const maxEvents = Math.max(1, this.#options.batchEvents ?? 10_000);
    const batch: Batch = { items: [], events: 0, decoded: new Map() };
    do {
      const item = await stream.next();
      batch.items.push(item);
      if (item.kind === "block") {
        const { block } = item;
        const events = decodeBlock(block, this.#options.contracts);
        batch.events += events.length;
        batch.decoded.set(block.height, {
          height: block.height,
          hash: block.hash,
          timestampNs: block.timestampNs,
          events,
        });
      }
    } while (batch.items.length < maxBlocks && batch.events < maxEvents && stream.hasReady());
    return batch;
  }

  /** Indexes until the signal aborts (resolves) or a fatal error (rejects). */
  async run(signal: AbortSignal): Promise<void> {
    if (this.#cursor === null) {
      await this.prepare();
    }
    const { source, log } = this.#options;
    const from = (this.#cursor?.height ?? -1) + 1;
    log.info("indexing", { from, network: this.#options.network });
    const stream = new BlockStream(source, from, {
      window: this.#options.prefetch ?? 256,
      concurrency: this.#options.fetchConcurrency ?? 32,
      tipPollMs: this.#options.tipPollMs,
      signal,
    });
    let lastProgress = Date.now();
    let wasAtTip = false;
    let pending: Promise<Batch> | null = null;
    try {
      pending = this.#nextBatch(stream);
      for (;;) {
        const batch: Batch = await pending;
        // The next batch is fetched and decoded while this one is written.
        pending = this.#nextBatch(stream);
        pending.catch(() => {});
        this.status.finalHeight = Math.max(this.status.finalHeight, stream.knownFinal);
        await this.#commitWithRetry(batch, signal);
        // Progress at most every 5 s, and once on reaching the tip (not once per block there).
        const atTip = this.status.height >= stream.knownFinal;
        if (Date.now() - lastProgress >= 5000 || (atTip && !wasAtTip)) {
          lastProgress = Date.now();
          log.info("indexed", {
            height: this.status.height,
            final: this.status.finalHeight,
            blocks: this.status.blocks,
            events: this.status.events,
          });
        }
        wasAtTip = atTip;
      }
    } catch (error) {
      if (signal.aborted) {
        log.info("stopped", { height: this.status.height });
        return;
      }
      this.recordError("fatal", error);
      throw error;
    }
  }

  async #commitWithRetry(batch: Batch, signal: AbortSignal): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      signal.throwIfAborted();
      try {
        await this.#commit(batch);
        return;
      } catch (error) {
        if (error instanceof ChainMismatchError || signal.aborted) {
          throw error;
        }
        const delay = backoffMs(attempt, 200, 10_000);
        this.recordError("database", error);
        this.#options.log.warn("writing blocks failed; retrying", {
          heights: `${firstHeight(batch.items)}-${lastHeight(batch.items)}`,
          attempt,
          delayMs: delay,
          error,
        });
        await sleep(delay, undefined, { signal });
      }
    }
  }

  async #commit(batch: Batch): Promise<void> {
    const previous = this.#cursor;
    if (previous === null) {
      throw new Error("indexer: run() before prepare()");
    }
    const { pool, contracts, log } = this.#options;
    // Chain continuity first: nothing of another chain is written.
    let next: Cursor = previous;
    const blocks: BlockEvents[] = [];
    for (const item of batch.items) {
      if (item.kind === "skipped") {
        next = { ...next, height: item.height };
        continue;
      }
      const block = item.block;
      if (next.blockHash !== "" && block.prevHash !== next.blockHash) {
        throw new ChainMismatchError(
          `block ${block.height} follows ${block.prevHash}, but the indexed chain's last block is ${next.blockHash}: the source serves another chain (reset or other network)`,
        );
      }
      const decoded = batch.decoded.get(block.height);
      if (decoded !== undefined && decoded.events.length > 0) blocks.push(decoded);
      next = {
        ...next,
        height: block.height,
        blockHash: block.hash,
        blockTimestampNs: block.timestampNs,
      };
    }
    let result: BatchResult;
    try {
      result = await inTransaction(pool, async (client) => {
        this.#catalog ??= await batchCatalog(client);
        const applied = await applyBatch(client, this.#catalog, contracts, blocks, this.#cache);
        await writeCursor(client, next, Math.max(this.status.finalHeight, next.height));
        await this.#options.beforeCommit?.(batch.items.map((item) => heightOf(item)));
        return applied;
      });
    } catch (error) {
      // Whether the commit happened is unknown: the rows are read from the database again.
      this.#cache.clear();
      throw error;
    }
    this.#cache.keep(result.state);
    this.#cursor = next;
    this.status.height = next.height;
    this.status.blockTimestampNs = next.blockTimestampNs;
    this.status.blocks += batch.items.length;
    this.status.events += result.applied + result.problems.length;
    this.status.problems += result.problems.length;
    for (const { height, event } of result.problems) {
      log.warn("event recorded but not applied", {
        height,
        receipt: event.receiptId,
        log: event.logIndex,
        event: `${event.standard}/${event.version}/${event.event}`,
        status: event.status,
        error: event.error,
      });
    }
  }
}

function heightOf(item: StreamItem): number {
  return item.kind === "block" ? item.block.height : item.height;
}

function firstHeight(items: StreamItem[]): number {
  return heightOf(items[0] as StreamItem);
}

function lastHeight(items: StreamItem[]): number {
  return heightOf(items[items.length - 1] as StreamItem);
}
