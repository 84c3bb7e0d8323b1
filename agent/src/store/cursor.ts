/**
 * The chain cursor: the next block height to read. Written atomically after the jobs a block
 * named are in the journal, so a restart reads again at most the blocks since the last save, and
 * the journal makes seeing a job twice harmless.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ensureDir, writeAtomic } from "./files.ts";

export class Cursor {
  readonly #dir: string;
  #saved: number | null;

  constructor(dataDir: string) {
    this.#dir = dataDir;
    ensureDir(dataDir);
    const path = join(dataDir, "cursor.json");
    if (!existsSync(path)) {
      this.#saved = null;
      return;
    }
    const value = JSON.parse(readFileSync(path, "utf8")) as { next_height?: unknown };
    if (!Number.isSafeInteger(value.next_height) || (value.next_height as number) < 0) {
      throw new Error(`${path}: next_height is not a block height`);
    }
    this.#saved = value.next_height as number;
  }

  /** The next height to read, or null before the first save. */
  get nextHeight(): number | null {
    return this.#saved;
  }

  save(nextHeight: number): void {
    if (nextHeight === this.#saved) return;
    writeAtomic(this.#dir, "cursor.json", `${JSON.stringify({ next_height: nextHeight })}\n`);
    this.#saved = nextHeight;
  }
}
