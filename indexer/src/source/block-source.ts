/**
 * Where blocks come from. The neardata HTTP source implements it; a NEAR Lake (S3) source can
 * implement the same two calls (its listing tells skipped heights apart the same way).
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
}
