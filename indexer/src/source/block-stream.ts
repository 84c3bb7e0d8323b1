/**
 * Final blocks in height order from `from` on, with a bounded prefetch window while catching up
 * (up to `window` heights at or below the final head fetched ahead, at most `concurrency` requests
 * in flight at once) and one request at a time at the tip, where the source is asked for the next
 * height directly (neardata and localnet hold near-future heights until they are produced).
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { BlockAt, BlockSource } from "./block-source.ts";

export type StreamItem = Exclude<BlockAt, { kind: "not-yet" }>;

export interface BlockStreamOptions {
  /** Heights fetched ahead (in flight or ready), default 32. */
  window?: number;
  /** Requests in flight at once (default: the window). */
  concurrency?: number;
  /** Wait between "not yet" answers at the tip. */
  tipPollMs?: number;
  signal?: AbortSignal;
}

export class BlockStream {
  #source: BlockSource;
  #window: number;
  #concurrency: number;
  #tipPollMs: number;
  #signal: AbortSignal | undefined;
  #next: number;
  #fetchFrom: number;
  #final = -1;
  #inflight = new Map<number, Promise<BlockAt>>();
  #settled = new Set<number>();

  constructor(source: BlockSource, from: number, options: BlockStreamOptions = {}) {
    this.#source = source;
    this.#window = Math.max(1, options.window ?? 32);
    this.#concurrency = Math.max(1, options.concurrency ?? this.#window);
    this.#tipPollMs = options.tipPollMs ?? 250;
    this.#signal = options.signal;
    this.#next = from;
    this.#fetchFrom = from;
    source.readFrom?.(from);
  }

  /** The height the next item will be for. */
  get nextHeight(): number {
    return this.#next;
  }

  /** The newest final height seen so far (-1 before the first look). */
  get knownFinal(): number {
    return this.#final;
  }

  /** Whether next() would answer without waiting. */
  hasReady(): boolean {
    return this.#settled.has(this.#next);
  }

  #fill(): void {
    while (
      this.#inflight.size < this.#window &&
      this.#inflight.size - this.#settled.size < this.#concurrency &&
      this.#fetchFrom <= this.#final
    ) {
      const height = this.#fetchFrom++;
      const promise = this.#source.blockAt(height, this.#signal);
      const settle = () => {
        // Not taken by next() yet: count it ready, and send the next request.
        if (this.#inflight.get(height) !== promise) return;
        this.#settled.add(height);
        this.#fill();
      };
      promise.then(settle, settle);
      this.#inflight.set(height, promise);
    }
  }

  #take(height: number): Promise<BlockAt> | undefined {
    const promise = this.#inflight.get(height);
    this.#inflight.delete(height);
    this.#settled.delete(height);
    return promise;
  }

  async next(): Promise<StreamItem> {
    for (;;) {
      this.#signal?.throwIfAborted();
      if (this.#next > this.#final) {
        this.#final = Math.max(this.#final, await this.#source.finalHeight(this.#signal));
      }
      if (this.#next <= this.#final) {
        this.#fill();
        const pending = this.#take(this.#next);
        if (pending === undefined) {
          throw new Error(`block stream: height ${this.#next} was not requested`);
        }
        const item = await pending;
        if (item.kind === "not-yet") {
          throw new Error(`block stream: final height ${this.#next} answered "not yet"`);
        }
        this.#next++;
        this.#fill();
        return item;
      }
      // At the tip: ask for the next height itself.
      const item = await this.#source.blockAt(this.#next, this.#signal);
      if (item.kind === "not-yet") {
        await sleep(this.#tipPollMs, undefined, { signal: this.#signal });
        continue;
      }
      this.#next++;
      this.#fetchFrom = Math.max(this.#fetchFrom, this.#next);
      if (item.kind === "block") {
        this.#final = Math.max(this.#final, item.block.height);
      }
      return item;
    }
  }
}
