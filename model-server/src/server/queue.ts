/**
 * Runs tasks one at a time (the model has one context sequence) with at most `maxWaiting` tasks
 * waiting behind the running one; beyond that `run` refuses at once, so a client hears "busy"
 * instead of waiting without bound.
 */

export class QueueFullError extends Error {
  constructor(maxWaiting: number) {
    super(`the server is busy: one request running and ${maxWaiting} waiting`);
    this.name = "QueueFullError";
  }
}

export class SerialQueue {
  readonly maxWaiting: number;
  private busy = false;
  /** Each waiting task's start signal. */
  private readonly waiting: Array<() => void> = [];

  constructor(maxWaiting: number) {
    if (!Number.isInteger(maxWaiting) || maxWaiting < 0) {
      throw new RangeError(`maxWaiting ${maxWaiting} must be a whole number`);
    }
    this.maxWaiting = maxWaiting;
  }

  get running(): number {
    return this.busy ? 1 : 0;
  }

  get queued(): number {
    return this.waiting.length;
  }

  /** Runs `task` when its turn comes; a `signal` that aborts while waiting leaves the queue. */
  async run<T>(task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    signal?.throwIfAborted();
    if (this.busy) {
      if (this.waiting.length >= this.maxWaiting) throw new QueueFullError(this.maxWaiting);
      await new Promise<void>((resolve, reject) => {
        const start = () => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        };
        const onAbort = () => {
          this.waiting.splice(this.waiting.indexOf(start), 1);
          reject(signal?.reason);
        };
        signal?.addEventListener("abort", onAbort, { once: true });
        this.waiting.push(start);
      });
    }
    // Either the queue was idle, or the finishing task handed its turn to this one (busy stays true).
    this.busy = true;
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next === undefined) this.busy = false;
      else next();
    }
  }
}
