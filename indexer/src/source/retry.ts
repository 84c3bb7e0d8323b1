/** Retries with exponential backoff and jitter, until success or the signal aborts. */
import { setTimeout as sleep } from "node:timers/promises";

export interface RetryOptions {
  baseMs?: number;
  maxMs?: number;
  signal?: AbortSignal;
  /** Called before each wait; attempt counts from 1. */
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
  /** Errors for which retrying cannot help are rethrown at once. */
  isFatal?: (error: unknown) => boolean;
}

export function backoffMs(attempt: number, baseMs: number, maxMs: number): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(attempt - 1, 30));
  return Math.round(ceiling * (0.5 + Math.random() / 2));
}

export async function withRetry<T>(task: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const baseMs = options.baseMs ?? 200;
  const maxMs = options.maxMs ?? 10_000;
  for (let attempt = 1; ; attempt++) {
    options.signal?.throwIfAborted();
    try {
      return await task();
    } catch (error) {
      if (options.signal?.aborted || options.isFatal?.(error)) {
        throw error;
      }
      const delay = backoffMs(attempt, baseMs, maxMs);
      options.onRetry?.(error, attempt, delay);
      await sleep(delay, undefined, { signal: options.signal });
    }
  }
}
