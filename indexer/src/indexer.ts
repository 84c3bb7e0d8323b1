/**
 * The indexing loop: blocks from the cursor on, decoded and applied; each batch of consecutive
 * blocks (one block at the tip, several already fetched ones while catching up) is written in one
 * transaction together with the cursor, so stopping at any moment loses and duplicates nothing.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { Kysely } from "kysely";
import { applyBlock } from "./apply/apply-block.ts";
import { type Cursor, cursorMismatch, readCursor, writeCursor } from "./db/cursor.ts";
import type { Database } from "./db/schema.ts";
import type { Contracts } from "./decode/contracts.ts";
import { decodeBlock } from "./decode/decode-block.ts";
import type { Logger } from "./log.ts";
import type { BlockSource } from "./source/block-source.ts";
import { BlockStream, type StreamItem } from "./source/block-stream.ts";
import { backoffMs } from "./source/retry.ts";

export interface IndexerOptions {
  db: Kysely<Database>;
  source: BlockSource;
  contracts: Contracts;
  network: string;
  /** First height to index when the database has no cursor yet. */
  startHeight?: number;
  log: Logger;
  /** Heights fetched ahead while catching up. */
  prefetch?: number;
  /** Most blocks written in one transaction while catching up. */
  batchBlocks?: number;
  tipPollMs?: number;
  /** Called inside each batch's transaction after its events are written, before the commit. */
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

  constructor(options: IndexerOptions) {
    this.#options = options;
  }

  /** Reads the cursor and checks it was written under the same network and contracts. */
  async prepare(): Promise<void> {
    const { db, network, contracts, startHeight } = this.#options;
    const cursor = await readCursor(db);
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

  /** Indexes until the signal aborts (resolves) or a fatal error (rejects). */
  async run(signal: AbortSignal): Promise<void> {
    if (this.#cursor === null) {
      await this.prepare();
    }
    const { source, log } = this.#options;
    const from = (this.#cursor?.height ?? -1) + 1;
    log.info("indexing", { from, network: this.#options.network });
    const stream = new BlockStream(source, from, {
      window: this.#options.prefetch ?? 32,
      tipPollMs: this.#options.tipPollMs,
      signal,
    });
    const maxBatch = Math.max(1, this.#options.batchBlocks ?? 50);
    let lastProgress = Date.now();
    let wasAtTip = false;
    try {
      for (;;) {
        const batch: StreamItem[] = [await stream.next()];
        while (batch.length < maxBatch && stream.hasReady()) {
          batch.push(await stream.next());
        }
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

  async #commitWithRetry(batch: StreamItem[], signal: AbortSignal): Promise<void> {
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
          heights: `${firstHeight(batch)}-${lastHeight(batch)}`,
          attempt,
          delayMs: delay,
          error,
        });
        await sleep(delay, undefined, { signal });
      }
    }
  }

  async #commit(batch: StreamItem[]): Promise<void> {
    const previous = this.#cursor;
    if (previous === null) {
      throw new Error("indexer: run() before prepare()");
    }
    const { db, contracts, log } = this.#options;
    let next: Cursor = previous;
    let applied = 0;
    let problems = 0;
    await db.transaction().execute(async (tx) => {
      next = previous;
      applied = 0;
      problems = 0;
      for (const item of batch) {
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
        const events = decodeBlock(block, contracts);
        const result = await applyBlock(tx, block, events);
        applied += result.applied;
        problems += result.problems.length;
        for (const event of result.problems) {
          log.warn("event recorded but not applied", {
            height: block.height,
            receipt: event.receiptId,
            log: event.logIndex,
            event: `${event.standard}/${event.version}/${event.event}`,
            status: event.status,
            error: event.error,
          });
        }
        next = {
          ...next,
          height: block.height,
          blockHash: block.hash,
          blockTimestampNs: block.timestampNs,
        };
      }
      await writeCursor(tx, next);
      await this.#options.beforeCommit?.(batch.map((item) => heightOf(item)));
    });
    this.#cursor = next;
    this.status.height = next.height;
    this.status.blockTimestampNs = next.blockTimestampNs;
    this.status.blocks += batch.length;
    this.status.events += applied + problems;
    this.status.problems += problems;
  }
}

function heightOf(item: StreamItem): number {
  return item.kind === "block" ? item.block.height : item.height;
}

function firstHeight(batch: StreamItem[]): number {
  return heightOf(batch[0] as StreamItem);
}

function lastHeight(batch: StreamItem[]): number {
  return heightOf(batch[batch.length - 1] as StreamItem);
}
