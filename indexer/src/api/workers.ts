/**
 * The API in more processes (`--api-workers N`): N - 1 worker processes (node:cluster) each serve
 * the same port (SO_REUSEPORT: the kernel spreads connections over the processes) from the same
 * database, so answering scales past one process's CPU. Workers only answer queries; the process
 * that started them indexes (or serves too, with `serve`). A worker that dies is started again; a
 * worker whose parent is gone exits (it notices the IPC channel closing).
 */
import cluster, { type Worker } from "node:cluster";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import type { Logger } from "../log.ts";

const CLI = fileURLToPath(new URL("../cli.ts", import.meta.url));

/** Set in a worker's environment: serve on a shared port, exit with the parent. */
export const WORKER_ENV = "GPU_MARKET_API_WORKER";

/** In a worker: tells the parent this process listens. */
export function reportListening(): void {
  process.send?.({ listening: true });
}

export interface WorkerOptions {
  count: number;
  host: string;
  port: number;
  databaseUrl: string;
  maxLagBlocks: number;
  cache: boolean;
  logLevel: string;
  logJson: boolean;
  log: Logger;
}

export interface ApiWorkers {
  /** Resolves once every worker listens. */
  ready: Promise<void>;
  stop(): Promise<void>;
}

export function startApiWorkers(options: WorkerOptions): ApiWorkers {
  const args = [
    "serve",
    "--api-host",
    options.host,
    "--api-port",
    String(options.port),
    "--max-lag-blocks",
    String(options.maxLagBlocks),
    "--log-level",
    options.logLevel,
    options.cache ? "--api-cache" : "--no-api-cache",
    ...(options.logJson ? ["--log-json"] : []),
  ];
  cluster.setupPrimary({ exec: CLI, args });
  const workers = new Set<Worker>();
  let stopping = false;
  const fork = (): Promise<void> => {
    // The database URL goes in the environment, not on a command line others can read.
    const worker = cluster.fork({ [WORKER_ENV]: "1", DATABASE_URL: options.databaseUrl });
    workers.add(worker);
    worker.on("exit", (code, signal) => {
      workers.delete(worker);
      if (stopping) return;
      options.log.warn("API worker exited; starting another", { code, signal });
      void fork().catch((error: unknown) =>
        options.log.error("API worker did not start", { error }),
      );
    });
    return Promise.race([
      // Workers listen on their own socket, unknown to the cluster: they say when they listen.
      new Promise<void>((resolve) => {
        const onMessage = (message: unknown) => {
          if ((message as { listening?: unknown } | null)?.listening === true) {
            worker.off("message", onMessage);
            resolve();
          }
        };
        worker.on("message", onMessage);
      }),
      once(worker, "exit").then(([code]) => {
        throw new Error(`API worker exited with ${code} before listening`);
      }),
    ]);
  };
  const ready = Promise.all(Array.from({ length: options.count - 1 }, fork)).then(() => {});
  ready.catch(() => {});
  return {
    ready,
    async stop() {
      stopping = true;
      await Promise.all(
        [...workers].map(async (worker) => {
          const exited = once(worker, "exit");
          worker.kill("SIGTERM");
          await exited;
        }),
      );
    },
  };
}
