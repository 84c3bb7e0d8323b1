/**
 * Answers kept until the index moves (on unless `--no-api-cache`). Every answer is a function of
 * the tables at the cursor's height (it says so in `as_of`), and the indexer notifies a channel in
 * each commit (cursor.ts), so an answer stays right until the next notification; a popular search
 * is then computed once per block instead of once per request. An answer computed while a
 * notification arrived is not kept (it may be from before it). While the listening connection is
 * down nothing is kept or served from here. Writes to the tables by anything but the indexer are
 * not seen: turn it off where something else writes them.
 */
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import { CURSOR_CHANNEL } from "../db/cursor.ts";
import type { Logger } from "../log.ts";

export interface CachedAnswer {
  status: number;
  json: string;
}

export class AnswerCache {
  readonly #max: number;
  readonly #connection: pg.ClientConfig;
  readonly #log: Logger;
  #answers = new Map<string, CachedAnswer>();
  #generation = 0;
  #client: pg.Client | null = null;
  #stopped = false;

  constructor(connection: pg.ClientConfig, log: Logger, max = 1000) {
    this.#connection = connection;
    this.#log = log;
    this.#max = max;
  }

  /** Changes with every notification (and every loss of the listening connection). */
  get generation(): number {
    return this.#generation;
  }

  get listening(): boolean {
    return this.#client !== null;
  }

  #clear(): void {
    this.#generation++;
    this.#answers.clear();
  }

  /** Listens on the cursor channel; reconnects while not stopped. Resolves once listening. */
  async start(): Promise<void> {
    for (let attempt = 0; !this.#stopped; attempt++) {
      const client = new pg.Client(this.#connection);
      try {
        await client.connect();
        client.on("notification", () => this.#clear());
        const lost = (error?: Error) => {
          if (this.#client !== client) return;
          this.#client = null;
          this.#clear();
          client.end().catch(() => {});
          if (!this.#stopped) {
            this.#log.warn("API cache: listening connection lost; reconnecting", { error });
            void this.start();
          }
        };
        client.on("error", lost);
        client.on("end", () => lost());
        await client.query(`LISTEN ${CURSOR_CHANNEL}`);
        this.#client = client;
        // Answers from before listening could be older than the first notification shows.
        this.#clear();
        return;
      } catch (error) {
        await client.end().catch(() => {});
        this.#log.warn("API cache: cannot listen for index changes; retrying", { error });
        await sleep(Math.min(10_000, 200 * 2 ** Math.min(attempt, 6)));
      }
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    const client = this.#client;
    this.#client = null;
    this.#clear();
    await client?.end().catch(() => {});
  }

  get(key: string): CachedAnswer | undefined {
    if (this.#client === null) return undefined;
    return this.#answers.get(key);
  }

  /** Keeps an answer computed since `generation` was read, unless the index moved meanwhile. */
  set(key: string, answer: CachedAnswer, generation: number): void {
    if (this.#client === null || generation !== this.#generation) return;
    if (this.#answers.size >= this.#max) {
      const oldest = this.#answers.keys().next().value;
      if (oldest !== undefined) this.#answers.delete(oldest);
    }
    this.#answers.set(key, answer);
  }
}
