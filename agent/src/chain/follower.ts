/**
 * Follows the chain's final blocks (any neardata-compatible block stream: neardata.xyz, localnet)
 * from the saved cursor, decodes the escrow's events with the indexer's decoder and hands every
 * job event about this provider's jobs to `onJob`, and every session event about its sessions to
 * `onSession`, block by block. The cursor is saved after a
 * block's jobs are handled (and at most once a second while idle blocks pass), so a restart reads
 * again only blocks whose jobs the journal already has.
 */
import { decodeBlock } from "@gpu-market/indexer/src/decode/decode-block.ts";
import { BlockStream } from "@gpu-market/indexer/src/source/block-stream.ts";
import { NeardataSource } from "@gpu-market/indexer/src/source/neardata.ts";
import type { Logger } from "../log.ts";
import type { Cursor } from "../store/cursor.ts";
import type { ChainClock } from "./clock.ts";
import { type ChainJob, parseChainJob } from "./escrow.ts";
import { type ChainSession, parseChainSession } from "./sessions.ts";

export const JOB_EVENTS = [
  "job_created",
  "job_accepted",
  "job_delivered",
  "job_failed",
  "job_cancelled",
  "job_reclaimed",
  "job_settled",
  "job_disputed",
  "dispute_resolved",
] as const;
export type JobEventName = (typeof JOB_EVENTS)[number];

/** Session events whose data is the Session (session_pending and session_rejected are not). */
export const SESSION_EVENTS = [
  "session_opened",
  "session_claimed",
  "session_closing",
  "session_disputed",
  "session_settled",
  "session_resolved",
] as const;
export type SessionEventName = (typeof SESSION_EVENTS)[number];

export interface SessionChainEvent {
  event: SessionEventName;
  session: ChainSession;
  height: number;
}

export interface JobEvent {
  event: JobEventName;
  job: ChainJob;
  height: number;
}

export interface FollowerOptions {
  blockSource: string;
  escrow: string;
  provider: string;
  cursor: Cursor;
  /** Where to start when there is no cursor (default: the final head). */
  fromHeight: number | null;
  log: Logger;
  onJob: (event: JobEvent) => Promise<void>;
  onSession: (event: SessionChainEvent) => Promise<void>;
  /** Told each block's timestamp (session deadlines are block times). */
  clock?: ChainClock;
  signal: AbortSignal;
}

export interface FollowerStatus {
  nextHeight: number | null;
  finalHeight: number | null;
  lastBlockAt: number | null;
}

export class Follower {
  readonly status: FollowerStatus = { nextHeight: null, finalHeight: null, lastBlockAt: null };
  readonly #options: FollowerOptions;
  readonly #source: NeardataSource;

  constructor(options: FollowerOptions) {
    this.#options = options;
    this.#source = new NeardataSource({
      url: options.blockSource,
      onRetry: (what, error, attempt) => {
        if (attempt === 1 || attempt % 10 === 0) {
          options.log.warn(`block source: retrying ${what}`, { attempt, error });
        }
      },
    });
  }

  /** Reads blocks until the signal aborts. */
  async run(): Promise<void> {
    const { cursor, log, signal } = this.#options;
    let from = this.#options.fromHeight ?? cursor.nextHeight;
    if (from === null) from = await this.#source.finalHeight(signal);
    if (this.#options.fromHeight !== null && cursor.nextHeight !== null) {
      log.info(`following from --from-height ${from} (the saved cursor was ${cursor.nextHeight})`);
    } else {
      log.info(`following the chain from block ${from}`, { source: this.#source.url });
    }
    const stream = new BlockStream(this.#source, from, { signal });
    this.status.nextHeight = from;
    let savedAt = 0;
    for (;;) {
      const item = await stream.next();
      const height = item.kind === "block" ? item.block.height : item.height;
      let handled = 0;
      if (item.kind === "block") {
        this.#options.clock?.observe(BigInt(item.block.timestampNs));
        for (const event of this.#events(item.block, height)) {
          if ("job" in event) await this.#options.onJob(event);
          else await this.#options.onSession(event);
          handled++;
        }
      }
      this.status.nextHeight = height + 1;
      this.status.finalHeight = stream.knownFinal;
      this.status.lastBlockAt = Date.now();
      if (handled > 0 || Date.now() - savedAt >= 1000 || !stream.hasReady()) {
        cursor.save(height + 1);
        savedAt = Date.now();
      }
    }
  }

  *#events(
    block: Parameters<typeof decodeBlock>[0],
    height: number,
  ): Iterable<JobEvent | SessionChainEvent> {
    const contracts = { registry: null, escrow: this.#options.escrow, governance: null };
    for (const decoded of decodeBlock(block, contracts)) {
      if (decoded.role !== "escrow") continue;
      const isJob = JOB_EVENTS.includes(decoded.event as JobEventName);
      if (!isJob && !SESSION_EVENTS.includes(decoded.event as SessionEventName)) continue;
      // The raw data, checked here for the fields the agent reads: the indexer's full schema may
      // lag the escrow by a field without the agent having to wait for it.
      const items = Array.isArray(decoded.data) ? decoded.data : [];
      for (const [i, item] of items.entries()) {
        const where = `block ${height} ${decoded.event}[${i}]`;
        try {
          if (isJob) {
            const job = parseChainJob(item, where);
            if (job.provider === this.#options.provider) {
              yield { event: decoded.event as JobEventName, job, height };
            }
          } else {
            const session = parseChainSession(item, where);
            if (session.provider === this.#options.provider) {
              yield { event: decoded.event as SessionEventName, session, height };
            }
          }
        } catch (error) {
          this.#options.log.warn("skipping an escrow event that does not parse", {
            height,
            error,
          });
        }
      }
    }
  }
}
