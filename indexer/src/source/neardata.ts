/**
 * A neardata-compatible HTTP block source: GET /v0/block/:height (a StreamerMessage, or `null` for
 * a height with no block) and GET /v0/last_block/final (a redirect to the final block's path, or the
 * block itself). localnet serves the same paths, and so do mainnet.neardata.xyz and
 * testnet.neardata.xyz. Network errors, 5xx answers, malformed blocks and a source that lags behind
 * its own final head are retried with backoff; 429 (rate limited) and 503 wait at least as long as
 * Retry-After says. An API key goes in `Authorization: Bearer` (redirects are read, not followed,
 * so it never leaks to another host); `requestsPerSecond` keeps under a public rate limit.
 */
import type { BlockAt, BlockSource } from "./block-source.ts";
import { type HttpAnswer, httpGet, jsonBody } from "./http.ts";
import { RateLimiter } from "./rate-limit.ts";
import { RetryLaterError, retryAfterMs, withRetry } from "./retry.ts";
import { parseStreamerMessage } from "./streamer-message.ts";

export interface NeardataOptions {
  /** Base URL, e.g. http://127.0.0.1:3030 or https://mainnet.neardata.xyz */
  url: string;
  /** Sent as `Authorization: Bearer <key>` (a FastNear subscription key for neardata.xyz). */
  apiKey?: string;
  /** Most requests a second (default: no limit); neardata.xyz allows 3 without an API key. */
  requestsPerSecond?: number;
  /** Per request; long enough for a server that holds near-future heights until produced. */
  requestTimeoutMs?: number;
  retryBaseMs?: number;
  retryMaxMs?: number;
  onRetry?: (what: string, error: unknown, attempt: number, delayMs: number) => void;
}

/** An answer retrying cannot fix (e.g. a height below what the source keeps). */
export class SourceFatalError extends Error {
  override name = "SourceFatalError";
}

class HttpStatusError extends Error {
  override name = "HttpStatusError";
}

interface ErrorBody {
  type?: unknown;
  error?: unknown;
}

export class NeardataSource implements BlockSource {
  readonly url: string;
  #options: NeardataOptions;
  #limiter: RateLimiter | null;
  #knownFinal = -1;

  constructor(options: NeardataOptions) {
    this.url = options.url.replace(/\/+$/, "");
    if (!/^https?:\/\//.test(this.url)) {
      throw new Error(`block source URL ${options.url}: must start with http:// or https://`);
    }
    if (options.apiKey !== undefined && !/^[\x21-\x7e]+$/.test(options.apiKey)) {
      throw new Error("block source API key: must be printable ASCII without spaces");
    }
    this.#options = options;
    this.#limiter =
      options.requestsPerSecond === undefined ? null : new RateLimiter(options.requestsPerSecond);
  }

  #retry<T>(what: string, task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    return withRetry(task, {
      baseMs: this.#options.retryBaseMs,
      maxMs: this.#options.retryMaxMs,
      signal,
      isFatal: (error) => error instanceof SourceFatalError,
      onRetry: (error, attempt, delay) => this.#options.onRetry?.(what, error, attempt, delay),
    });
  }

  async #get(path: string, signal?: AbortSignal): Promise<HttpAnswer> {
    await this.#limiter?.take(signal);
    const headers: Record<string, string> = { accept: "application/json" };
    if (this.#options.apiKey !== undefined) {
      headers.authorization = `Bearer ${this.#options.apiKey}`;
    }
    const answer = await httpGet(`${this.url}${path}`, {
      headers,
      signal,
      timeoutMs: this.#options.requestTimeoutMs ?? 45_000,
    });
    if (answer.status === 429 || answer.status === 503) {
      const wait = retryAfterMs(answer.headers["retry-after"]);
      const what = answer.status === 429 ? "rate limited" : "unavailable";
      throw new RetryLaterError(
        `${path}: HTTP ${answer.status} (${what}${wait === null ? "" : `, retry after ${wait} ms`})`,
        wait ?? 0,
      );
    }
    return answer;
  }

  finalHeight(signal?: AbortSignal): Promise<number> {
    return this.#retry("last_block/final", () => this.#fetchFinal(signal), signal);
  }

  async #fetchFinal(signal?: AbortSignal): Promise<number> {
    const answer = await this.#get("/v0/last_block/final", signal);
    let height: number;
    if (answer.status >= 300 && answer.status < 400) {
      const location = answer.headers.location ?? "";
      const match = /\/v0\/block\/(\d+)(\?.*)?$/.exec(location);
      if (!match) {
        throw new HttpStatusError(`last_block/final redirected to an unexpected ${location}`);
      }
      height = Number(match[1]);
    } else if (answer.status === 200) {
      height = parseStreamerMessage(jsonBody(answer, "last_block/final")).height;
    } else {
      throw new HttpStatusError(`last_block/final answered HTTP ${answer.status}`);
    }
    this.#knownFinal = Math.max(this.#knownFinal, height);
    return height;
  }

  blockAt(height: number, signal?: AbortSignal): Promise<BlockAt> {
    return this.#retry(`block ${height}`, () => this.#fetchBlock(height, signal), signal);
  }

  async #fetchBlock(height: number, signal?: AbortSignal): Promise<BlockAt> {
    const answer = await this.#get(`/v0/block/${height}`, signal);
    if (answer.status === 404) {
      let body: ErrorBody = {};
      try {
        body = jsonBody(answer, `block ${height}`) as ErrorBody;
      } catch {
        // A 404 without a JSON body says no more than "not here".
      }
      if (body.type === "BLOCK_HEIGHT_TOO_LOW") {
        throw new SourceFatalError(
          `block ${height}: the source does not serve heights this low (${String(body.error)})`,
        );
      }
      return this.#notYet(height);
    }
    if (answer.status !== 200) {
      throw new HttpStatusError(`block ${height}: HTTP ${answer.status}`);
    }
    const body = jsonBody(answer, `block ${height}`);
    if (body !== null) {
      const block = parseStreamerMessage(body);
      if (block.height !== height) {
        throw new HttpStatusError(`asked for block ${height}, got block ${block.height}`);
      }
      return { kind: "block", block };
    }
    // `null` means "no block here" only for a final height; above the final head it may just not
    // be produced yet.
    if (height > this.#knownFinal) {
      await this.#fetchFinal(signal);
    }
    return height <= this.#knownFinal ? { kind: "skipped", height } : this.#notYet(height);
  }

  async #notYet(height: number): Promise<BlockAt> {
    // A load-balanced source may answer "not yet" for a height it already called final: that is a
    // lagging replica, retried; only heights above the final head are really not produced yet.
    if (height <= this.#knownFinal) {
      throw new HttpStatusError(`block ${height} is final but the source does not have it yet`);
    }
    return { kind: "not-yet", height };
  }
}
