/**
 * Where blocks come from: the neardata HTTP source (neardata.ts, localnet serves the same paths)
 * and NEAR Lake's S3 buckets (lake.ts, whose listings tell skipped heights apart).
 */
import type { Block } from "./streamer-message.ts";

/** A final block, a height the chain skipped, or a height not produced yet. */
export type BlockAt =
  | { kind: "block"; block: Block }
  | { kind: "skipped"; height: number }
  | { kind: "not-yet"; height: number };

export interface BlockSource {
  /** The height of the newest final block. */
  finalHeight(signal?: AbortSignal): Promise<number>;
  /**
   * The final block at `height`. "skipped" only when the source knows the height is final and
   * holds no block; a height above the final head is "not-yet".
   */
  blockAt(height: number, signal?: AbortSignal): Promise<BlockAt>;
  /** The consumer reads from `height` on (a source that lists ahead starts there). */
  readFrom?(height: number): void;
}
