/** Runs an Indexer in the background until it reaches a height, then stops it. */
import { setTimeout as sleep } from "node:timers/promises";
import type { Indexer } from "../../src/indexer.ts";

export interface Running {
  /** Resolves when the indexer has committed `height` (rejects if it failed first). */
  reach(height: number, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
  done: Promise<void>;
}

export function runInBackground(indexer: Indexer): Running {
  const controller = new AbortController();
  let failure: unknown = null;
  const done = indexer.run(controller.signal).catch((error: unknown) => {
    failure = error;
    throw error;
  });
  done.catch(() => {});
  return {
    done,
    async reach(height, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      while (indexer.status.height < height) {
        if (failure !== null) throw failure;
        if (Date.now() > deadline) {
          throw new Error(
            `indexer at ${indexer.status.height}, not ${height}, after ${timeoutMs} ms (last error: ${indexer.status.lastError})`,
          );
        }
        await sleep(10);
      }
    },
    async stop() {
      controller.abort();
      await done;
    },
  };
}
