/**
 * The indexer as one service: database (embedded or DATABASE_URL), migrations, optional
 * re-index, the indexing loop and the query API. Used by the CLI, the end-to-end tests and the
 * bench.
 */
import type { Server } from "node:http";
import { AnswerCache } from "./api/cache.ts";
import { createApi, listen } from "./api/server.ts";
import { type ApiWorkers, startApiWorkers } from "./api/workers.ts";
import type { Config } from "./config.ts";
import { connect } from "./db/connect.ts";
import type { DatabaseHandle } from "./db/database.ts";
import { migrateToLatest } from "./db/migrate.ts";
import { Indexer } from "./indexer.ts";
import type { Logger } from "./log.ts";
import { reindexFrom } from "./reindex.ts";
import type { BlockSource } from "./source/block-source.ts";
import { LakeSource } from "./source/lake.ts";
import { NeardataSource } from "./source/neardata.ts";

export interface App {
  apiUrl: string;
  indexer: Indexer | null;
  database: DatabaseHandle;
  /** Settles when indexing stops: resolves on stop(), rejects on a fatal error. */
  done: Promise<void>;
  stop(): Promise<void>;
}

export interface AppOptions {
  config: Config;
  log: Logger;
  /** Index as well as serve (the `run` command); `serve` only answers queries. */
  index: boolean;
  /** A block source other than the neardata one the config names (tests). */
  source?: BlockSource;
  /** First retry delay of the neardata source (default 200 ms; tests shorten it). */
  sourceRetryMs?: number;
  database?: DatabaseHandle;
  /** This process is one of several API workers (workers.ts): share the port with the others. */
  worker?: boolean;
}

export async function startApp(options: AppOptions): Promise<App> {
  const { config, log } = options;
  const database =
    options.database ??
    (await connect({
      databaseUrl: config.databaseUrl,
      dataDir: config.dataDir,
      pgPort: config.pgPort,
      log,
    }));
  let server: Server | null = null;
  let cache: AnswerCache | null = null;
  let workers: ApiWorkers | null = null;
  try {
    const applied = await migrateToLatest(database.db);
    if (applied.length > 0) log.info("migrations applied", { migrations: applied.join(",") });
    let indexer: Indexer | null = null;
    if (options.index) {
      if (config.reindexFrom !== undefined) {
        const result = await reindexFrom(database.pool, config.reindexFrom, config.contracts);
        log.info("re-indexed from stored events", { from: config.reindexFrom, ...result });
      }
      const onRetry = (what: string, error: unknown, attempt: number, delayMs: number) => {
        indexer?.recordError(`source: ${what}`, error);
        log.warn("block source error; retrying", { what, attempt, delayMs, error });
      };
      const retry = {
        retryBaseMs: options.sourceRetryMs,
        retryMaxMs: options.sourceRetryMs === undefined ? undefined : options.sourceRetryMs * 4,
        onRetry,
      };
      const configured = config.source;
      const source =
        options.source ??
        (configured.kind === "lake"
          ? new LakeSource({ ...configured, ...retry })
          : new NeardataSource({ ...configured, ...retry }));
      indexer = new Indexer({
        pool: database.pool,
        source,
        contracts: config.contracts,
        network: config.network,
        startHeight: config.startHeight,
        log,
        prefetch: config.prefetch,
        fetchConcurrency: config.fetchConcurrency,
        batchBlocks: config.batchBlocks,
        batchEvents: config.batchEvents,
      });
      await indexer.prepare();
    }
    const running = indexer;
    if (config.apiCache) {
      cache = new AnswerCache(database.pool.options, log);
      await cache.start();
    }
    server = createApi({
      db: database.db,
      pool: database.pool,
      cache: cache ?? undefined,
      log,
      health: {
        maxLagBlocks: config.maxLagBlocks,
        status: running ? () => running.status : undefined,
      },
    });
    const shared = options.worker === true || config.apiWorkers > 1;
    const apiUrl = await listen(server, config.apiHost, config.apiPort, shared);
    if (config.apiWorkers > 1 && options.worker !== true) {
      const databaseUrl = database.pool.options.connectionString;
      if (databaseUrl === undefined) throw new Error("--api-workers: the database has no URL");
      workers = startApiWorkers({
        count: config.apiWorkers,
        host: config.apiHost,
        port: Number(new URL(apiUrl).port),
        databaseUrl,
        maxLagBlocks: config.maxLagBlocks,
        cache: config.apiCache,
        logLevel: config.logLevel,
        logJson: config.logJson,
        log,
      });
      await workers.ready;
    }
    log.info("query API listening", { url: apiUrl, processes: config.apiWorkers });
    const controller = new AbortController();
    const done = running
      ? running.run(controller.signal)
      : new Promise<void>((resolve) => {
          controller.signal.addEventListener("abort", () => resolve());
        });
    done.catch(() => {});
    const openServer = server;
    const openCache = cache;
    const openWorkers = workers;
    return {
      apiUrl,
      indexer: running,
      database,
      done,
      stop: async () => {
        controller.abort();
        await done.catch(() => {});
        await openWorkers?.stop();
        openServer.closeAllConnections();
        await new Promise<void>((resolve) => openServer.close(() => resolve()));
        await openCache?.stop();
        if (options.database === undefined) await database.close();
      },
    };
  } catch (error) {
    await workers?.stop();
    server?.close();
    await cache?.stop();
    if (options.database === undefined) await database.close();
    throw error;
  }
}
