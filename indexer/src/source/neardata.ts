/**
 * A neardata-compatible HTTP block source: GET /v0/block/:height (a StreamerMessage, or `null` for
 * a height with no block) and GET /v0/last_block/final (a redirect to the final block's path, or the
 * block itself). localnet serves the same paths. Network errors, 5xx and 429 answers, malformed
 * blocks and a source that lags behind its own final head are retried with backoff.
 */
import type { BlockAt, BlockSource } from "./block-source.ts";
import { withRetry } from "./retry.ts";
import { parseStreamerMessage } from "./streamer-message.ts";

export interface NeardataOptions {
  /** Base URL, e.g. http://127.0.0.1:3030 or https://mainnet.neardata.xyz */
  url: string;
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
  #knownFinal = -1;

  constructor(options: NeardataOptions) {
    this.url = options.url.replace(/\/+$/, "");
    if (!/^https?:\/\//.test(this.url)) {
      throw new Error(`block source URL ${options.url}: must start with http:// or https://`);
    }
    this.#options = options;
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

  async #get(path: string, signal?: AbortSignal): Promise<Response> {
    const timeout = AbortSignal.timeout(this.#options.requestTimeoutMs ?? 45_000);
    return fetch(`${this.url}${path}`, {
      redirect: "manual",
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      headers: { accept: "application/json" },
    });
  }

  finalHeight(signal?: AbortSignal): Promise<number> {
    return this.#retry("last_block/final", () => this.#fetchFinal(signal), signal);
  }

  async #fetchFinal(signal?: AbortSignal): Promise<number> {
    const response = await this.#get("/v0/last_block/final", signal);
    let height: number;
    if (response.status >= 300 && response.status < 400) {
      await response.body?.cancel();
      const location = response.headers.get("location") ?? "";
      const match = /\/v0\/block\/(\d+)$/.exec(location);
      if (!match) {
        throw new HttpStatusError(`last_block/final redirected to an unexpected ${location}`);
      }
      height = Number(match[1]);
    } else if (response.status === 200) {
      height = parseStreamerMessage(await response.json()).height;
    } else {
      await response.body?.cancel();
      throw new HttpStatusError(`last_block/final answered HTTP ${response.status}`);
    }
    this.#knownFinal = Math.max(this.#knownFinal, height);
    return height;
  }

  blockAt(height: number, signal?: AbortSignal): Promise<BlockAt> {
    return this.#retry(`block ${height}`, () => this.#fetchBlock(height, signal), signal);
  }

  async #fetchBlock(height: number, signal?: AbortSignal): Promise<BlockAt> {
    const response = await this.#get(`/v0/block/${height}`, signal);
    if (response.status === 404) {
      const body = (await response.json().catch(() => ({}))) as ErrorBody;
      if (body.type === "BLOCK_HEIGHT_TOO_LOW") {
        throw new SourceFatalError(
          `block ${height}: the source does not serve heights this low (${String(body.error)})`,
        );
      }
      return this.#notYet(height);
    }
    if (response.status !== 200) {
      await response.body?.cancel();
      throw new HttpStatusError(`block ${height}: HTTP ${response.status}`);
    }
    const body: unknown = await response.json();
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
