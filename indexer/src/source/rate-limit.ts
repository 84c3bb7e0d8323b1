/**
 * A client-side request rate limit (token bucket): public block sources limit requests per IP
 * (neardata: 180 a minute without an API key), and staying under the limit is cheaper than being
 * answered 429 and backing off.
 */
import { setTimeout as sleep } from "node:timers/promises";

export class RateLimiter {
  readonly perSecond: number;
  readonly #burst: number;
  #tokens: number;
  #updated = performance.now();
  #queue: Promise<void> = Promise.resolve();

  /** `perSecond` requests a second on average, bursts of up to `burst`. */
  constructor(perSecond: number, burst = Math.max(1, Math.ceil(perSecond))) {
    if (!(perSecond > 0)) throw new Error(`rate limit: must be above 0, got ${perSecond}`);
    this.perSecond = perSecond;
    this.#tokens = burst;
    this.#burst = burst;
  }

  /** Resolves when a request may be sent (callers are served in order). */
  take(signal?: AbortSignal): Promise<void> {
    const turn = this.#queue.then(async () => {
      for (;;) {
        const now = performance.now();
        this.#tokens = Math.min(
          this.#burst,
          this.#tokens + ((now - this.#updated) / 1000) * this.perSecond,
        );
        this.#updated = now;
        if (this.#tokens >= 1) {
          this.#tokens -= 1;
          return;
        }
        await sleep(((1 - this.#tokens) / this.perSecond) * 1000, undefined, { signal });
      }
    });
    this.#queue = turn.catch(() => {});
    return turn;
  }
}
