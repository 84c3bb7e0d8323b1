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

/** The longest Retry-After believed (a source asking for more is asked again sooner). */
const MAX_RETRY_AFTER_MS = 300_000;

/** An error whose source said when to ask again (HTTP 429/503 with Retry-After). */
export class RetryLaterError extends Error {
  override name = "RetryLaterError";
  readonly retryAfterMs: number;

  constructor(message: string, retryAfterMs: number) {
    super(message);
    this.retryAfterMs = retryAfterMs;
  }
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
      // A source that says when to come back is believed, whatever the backoff would be.
      const delay =
        error instanceof RetryLaterError
          ? Math.max(
              Math.min(error.retryAfterMs, MAX_RETRY_AFTER_MS),
              backoffMs(attempt, baseMs, maxMs),
            )
          : backoffMs(attempt, baseMs, maxMs);
      options.onRetry?.(error, attempt, delay);
      await sleep(delay, undefined, { signal: options.signal });
    }
  }
}

/** Retry-After (delta seconds or an HTTP date) in ms; null when absent or unreadable. */
export function retryAfterMs(
  header: string | string[] | undefined,
  now = Date.now(),
): number | null {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || value.trim() === "") return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}
