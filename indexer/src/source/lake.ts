/**
 * NEAR Lake as a block source: the S3 buckets NEAR's lake indexer fills with final blocks
 * (near-lake-data-mainnet, near-lake-data-testnet in eu-central-1; requester pays), one folder per
 * height, `<height, 12 digits>/block.json` (a BlockView) and `shard_<id>.json` for each chunk of
 * the block (an IndexerShard), read with ListObjectsV2 and GetObject over SigV4-signed HTTP
 * (sigv4.ts). A height missing from a listing between two listed heights was skipped by the chain;
 * the newest listed height is final (the lake holds final blocks only). Listings are read ahead
 * (1,000 heights a request) from the height the consumer starts at. Network errors, 5xx and
 * throttling are retried with backoff; refused credentials and a missing bucket are not.
 */
import type { BlockAt, BlockSource } from "./block-source.ts";
import { type HttpAnswer, httpGet, jsonBody } from "./http.ts";
import { SourceFatalError } from "./neardata.ts";
import { RateLimiter } from "./rate-limit.ts";
import { RetryLaterError, retryAfterMs, withRetry } from "./retry.ts";
import { type AwsCredentials, signRequest } from "./sigv4.ts";
import { parseStreamerMessage } from "./streamer-message.ts";

export const LAKE_BUCKETS: Record<string, string> = {
  mainnet: "near-lake-data-mainnet",
  testnet: "near-lake-data-testnet",
};
export const LAKE_REGION = "eu-central-1";

export interface LakeOptions {
  bucket: string;
  region: string;
  credentials: AwsCredentials;
  /** An S3-compatible endpoint (path-style requests); default: AWS's, virtual-hosted style. */
  endpoint?: string;
  /** Pay for the requests (the NEAR Lake buckets require it). Default true. */
  requesterPays?: boolean;
  requestsPerSecond?: number;
  requestTimeoutMs?: number;
  retryBaseMs?: number;
  retryMaxMs?: number;
  onRetry?: (what: string, error: unknown, attempt: number, delayMs: number) => void;
  /** The clock requests are signed with (tests). */
  now?: () => Date;
}

class LakeHttpError extends Error {
  override name = "LakeHttpError";
}

const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;
const PAGE = 1000;

/** `<height>/` with the height as 12 digits, as the lake names its folders. */
export function lakeFolder(height: number): string {
  return String(height).padStart(12, "0");
}

/** The values of every `<name>…</name>` element of an S3 XML answer (its elements are flat text). */
function xmlValues(xml: string, name: string): string[] {
  const out: string[] = [];
  const pattern = new RegExp(`<${name}>([^<]*)</${name}>`, "g");
  for (let match = pattern.exec(xml); match !== null; match = pattern.exec(xml)) {
    out.push(
      (match[1] ?? "")
        .replace(/&lt;/g, "<")
        .replace(/&gt;/g, ">")
        .replace(/&quot;/g, '"')
        .replace(/&apos;/g, "'")
        .replace(/&amp;/g, "&"),
    );
  }
  return out;
}

export class LakeSource implements BlockSource {
  #options: LakeOptions;
  #base: URL;
  #pathStyle: boolean;
  #limiter: RateLimiter | null;
  /** Heights [#from, #to] are known: each is in #present (a block) or was skipped. */
  #from = -1;
  #to = -1;
  #present = new Set<number>();
  #hint = 0;
  #listing: Promise<void> | null = null;

  constructor(options: LakeOptions) {
    if (!BUCKET.test(options.bucket)) {
      throw new Error(`lake bucket ${JSON.stringify(options.bucket)}: not an S3 bucket name`);
    }
    if (!REGION.test(options.region)) {
      throw new Error(`lake region ${JSON.stringify(options.region)}: not an AWS region`);
    }
    if (options.credentials.accessKeyId === "" || options.credentials.secretAccessKey === "") {
      throw new Error(
        "NEAR Lake: AWS credentials are needed (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY); the buckets are requester-pays",
      );
    }
    this.#options = options;
    this.#pathStyle = options.endpoint !== undefined;
    const endpoint =
      options.endpoint ?? `https://${options.bucket}.s3.${options.region}.amazonaws.com`;
    if (!/^https?:\/\/[^\s/]+\/?$/.test(endpoint)) {
      throw new Error(`lake endpoint ${JSON.stringify(endpoint)}: must be http(s)://host[:port]`);
    }
    this.#base = new URL(endpoint);
    this.#limiter =
      options.requestsPerSecond === undefined ? null : new RateLimiter(options.requestsPerSecond);
  }

  readFrom(height: number): void {
    this.#hint = Math.max(0, height);
  }

  #url(key: string, query: Record<string, string> = {}): URL {
    const path = this.#pathStyle ? `/${this.#options.bucket}/${key}` : `/${key}`;
    const url = new URL(path, this.#base);
    for (const [name, value] of Object.entries(query)) url.searchParams.set(name, value);
    return url;
  }

  async #get(url: URL, signal?: AbortSignal): Promise<HttpAnswer> {
    await this.#limiter?.take(signal);
    const { headers } = signRequest({
      method: "GET",
      url,
      headers: (this.#options.requesterPays ?? true) ? { "x-amz-request-payer": "requester" } : {},
      region: this.#options.region,
      credentials: this.#options.credentials,
      date: this.#options.now?.() ?? new Date(),
    });
    const answer = await httpGet(url.toString(), {
      headers,
      signal,
      timeoutMs: this.#options.requestTimeoutMs ?? 30_000,
    });
    if (answer.status === 200 || answer.status === 404) return answer;
    const text = answer.body.toString("utf8");
    const code = xmlValues(text, "Code")[0] ?? `HTTP ${answer.status}`;
    const what = `${url.pathname}${url.search}: ${code} (${xmlValues(text, "Message")[0] ?? "no message"})`;
    if (answer.status === 503 || answer.status === 429 || code === "SlowDown") {
      throw new RetryLaterError(what, retryAfterMs(answer.headers["retry-after"]) ?? 0);
    }
    if (answer.status === 403 || answer.status === 400 || answer.status === 301) {
      throw new SourceFatalError(`NEAR Lake refused the request: ${what}`);
    }
    throw new LakeHttpError(what);
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

  /** One ListObjectsV2 page of folders from `height` on; the heights listed and whether more follow. */
  async #listPage(
    height: number,
    signal?: AbortSignal,
  ): Promise<{ heights: number[]; more: boolean }> {
    const url = this.#url("", {
      "list-type": "2",
      delimiter: "/",
      "max-keys": String(PAGE),
      // Keys after "<h>" include "<h>/block.json": the listing starts at `height` itself.
      "start-after": lakeFolder(height),
    });
    const answer = await this.#get(url, signal);
    if (answer.status === 404) {
      throw new SourceFatalError(`NEAR Lake: no bucket ${this.#options.bucket}`);
    }
    const xml = answer.body.toString("utf8");
    if (!xml.includes("<ListBucketResult")) {
      throw new LakeHttpError(`listing from ${height}: not a ListObjectsV2 answer`);
    }
    const heights = xmlValues(xml, "Prefix")
      .filter((prefix) => /^\d{12}\/$/.test(prefix))
      .map((prefix) => Number(prefix.slice(0, 12)))
      .filter((h) => h >= height)
      .sort((a, b) => a - b);
    return { heights, more: xmlValues(xml, "IsTruncated")[0] === "true" };
  }

  /** Lists from `height` (one page) and records what is known from it; one listing at a time. */
  async #list(height: number, signal?: AbortSignal): Promise<void> {
    while (this.#listing !== null) await this.#listing.catch(() => {});
    if (height >= this.#from && height <= this.#to) return;
    const listing = (async () => {
      const page = await this.#retry(
        `listing from ${height}`,
        () => this.#listPage(height, signal),
        signal,
      );
      const last = page.heights[page.heights.length - 1];
      if (last === undefined) return;
      // Continue the known range when the page follows it; otherwise start a new one.
      if (!(height >= this.#from && height <= this.#to + 1)) {
        this.#present.clear();
        this.#from = height;
      }
      for (const h of page.heights) this.#present.add(h);
      this.#to = last;
      // Keep memory bounded while catching up over millions of heights.
      if (this.#present.size > 100_000) {
        const keepFrom = last - 50_000;
        for (const h of this.#present) if (h < keepFrom) this.#present.delete(h);
        this.#from = Math.max(this.#from, keepFrom);
      }
    })();
    this.#listing = listing;
    try {
      await listing;
    } finally {
      this.#listing = null;
    }
  }

  async finalHeight(signal?: AbortSignal): Promise<number> {
    // The newest height the listings reach (a lower bound of the head until a page is not full).
    await this.#list(Math.max(this.#hint, this.#to + 1), signal);
    return this.#to;
  }

  async blockAt(height: number, signal?: AbortSignal): Promise<BlockAt> {
    this.#hint = Math.max(this.#hint, height);
    if (height < this.#from || height > this.#to) {
      await this.#list(height, signal);
    }
    if (height > this.#to) return { kind: "not-yet", height };
    if (height < this.#from) {
      // Listed past it by a concurrent reader; list again from it.
      await this.#list(height, signal);
      if (height < this.#from || height > this.#to) return { kind: "not-yet", height };
    }
    if (!this.#present.has(height)) return { kind: "skipped", height };
    return this.#retry(`block ${height}`, () => this.#fetchBlock(height, signal), signal);
  }

  async #object(key: string, signal?: AbortSignal): Promise<unknown> {
    const url = this.#url(key);
    const answer = await this.#get(url, signal);
    // Listed but not readable yet: S3 caught between the listing and the object; retried.
    if (answer.status === 404) throw new LakeHttpError(`${key}: listed but not found`);
    return jsonBody(answer, key);
  }

  async #fetchBlock(height: number, signal?: AbortSignal): Promise<BlockAt> {
    const folder = lakeFolder(height);
    const block = (await this.#object(`${folder}/block.json`, signal)) as {
      chunks?: { shard_id?: unknown }[];
    };
    if (!Array.isArray(block?.chunks)) {
      throw new LakeHttpError(`${folder}/block.json: no chunks`);
    }
    const shards = await Promise.all(
      block.chunks.map((chunk, i) => {
        const shard = chunk.shard_id;
        if (typeof shard !== "number" || !Number.isSafeInteger(shard) || shard < 0) {
          throw new LakeHttpError(`${folder}/block.json: chunks[${i}].shard_id is not a shard id`);
        }
        return this.#object(`${folder}/shard_${shard}.json`, signal);
      }),
    );
    const parsed = parseStreamerMessage({ block, shards });
    if (parsed.height !== height) {
      throw new LakeHttpError(`${folder}/block.json holds block ${parsed.height}`);
    }
    return { kind: "block", block: parsed };
  }
}
