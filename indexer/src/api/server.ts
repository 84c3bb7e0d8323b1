/**
 * The HTTP query API (node:http, JSON). GET only; every list is paginated with an opaque cursor in
 * a stable order; every answer carries `as_of` (the indexed height it reflects). Errors are
 * `{ "error": { "code", "message" } }`: 400 for bad parameters, 404, 405, 503 while the database
 * is unreachable, 500 otherwise. See README.md for the endpoints.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Kysely } from "kysely";
import type pg from "pg";
import type { Database } from "../db/schema.ts";
import type { Logger } from "../log.ts";
import type { AnswerCache, CachedAnswer } from "./cache.ts";
import { serveDashboard } from "./dashboard.ts";
import { listEvents } from "./events.ts";
import { type HealthOptions, healthReport } from "./health.ts";
import { getMachine, searchMachines } from "./machines.ts";
import { Query, QueryError } from "./params.ts";
import { getProvider, listProviders } from "./providers.ts";
import { extraRoutes } from "./routes-extra.ts";
import { marketStats } from "./stats.ts";

/** An answer to serialise, or one already serialised (`json`). */
export type Answer = { status: number; body: unknown } | { status: number; json: string };

export type Handler = (
  db: Kysely<Database>,
  query: Query,
  params: string[],
  pool: pg.Pool,
) => Promise<Answer | { data: unknown } | null>;

export interface Route {
  pattern: RegExp;
  handler: Handler;
}

const ROUTES: Route[] = [
  { pattern: /^\/v1\/machines$/, handler: (_db, q, _params, pool) => searchMachines(pool, q) },
  { pattern: /^\/v1\/machines\/([^/]+)$/, handler: (db, q, [id]) => getMachine(db, id ?? "", q) },
  { pattern: /^\/v1\/providers$/, handler: (db, q) => listProviders(db, q) },
  {
    pattern: /^\/v1\/providers\/([^/]+)$/,
    handler: (db, q, [account]) => getProvider(db, account ?? "", q),
  },
  { pattern: /^\/v1\/events$/, handler: (db, q) => listEvents(db, q) },
  { pattern: /^\/v1\/stats$/, handler: (db, q) => marketStats(db, q) },
  ...extraRoutes,
];

function send(response: ServerResponse, status: number, body: unknown, json?: string): void {
  const text = json ?? JSON.stringify(body);
  response.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
    "cache-control": "no-store",
  });
  response.end(text);
}

function error(code: string, message: string): { error: { code: string; message: string } } {
  return { error: { code, message } };
}

/** Connection-level failures (server down, connection cut): the database, not the request. */
function isDatabaseDown(e: unknown): boolean {
  const code = (e as { code?: unknown }).code;
  return (
    typeof code === "string" &&
    (code.startsWith("08") || code === "57P01" || code === "57P03" || code.startsWith("E"))
  );
}

export interface ApiOptions {
  db: Kysely<Database>;
  /** The pool under `db`: prepared statements of the hot paths (machine search). */
  pool: pg.Pool;
  /** Answers kept until the index moves (cache.ts); none when absent. */
  cache?: AnswerCache;
  log: Logger;
  health: HealthOptions;
}

async function handle(options: ApiOptions, request: IncomingMessage): Promise<Answer> {
  if (request.method !== "GET" && request.method !== "HEAD") {
    return { status: 405, body: error("method_not_allowed", "only GET is served") };
  }
  const url = new URL(request.url ?? "/", "http://localhost");
  let path: string;
  try {
    path = decodeURIComponent(url.pathname);
  } catch {
    return { status: 400, body: error("bad_request", "the path is not valid percent-encoding") };
  }
  if (path === "/health" || path === "/ready") {
    const report = await healthReport(options.db, options.health);
    const status = path === "/ready" && !report.ready ? 503 : 200;
    return { status, body: report };
  }
  for (const route of ROUTES) {
    const match = route.pattern.exec(path);
    if (match === null) continue;
    const answer = await route.handler(
      options.db,
      new Query(url.searchParams),
      match.slice(1),
      options.pool,
    );
    if (answer === null) return { status: 404, body: error("not_found", `${path}: not found`) };
    return "status" in answer ? (answer as Answer) : { status: 200, body: answer };
  }
  return { status: 404, body: error("not_found", `no endpoint ${path}`) };
}

/** GET answers of the data endpoints, from the cache or computed (and kept when it is on). */
async function answerOf(options: ApiOptions, request: IncomingMessage): Promise<CachedAnswer> {
  const cache = options.cache;
  const key = request.url ?? "/";
  const cacheable =
    cache !== undefined && request.method === "GET" && key.startsWith("/v1/") && cache.listening;
  if (cacheable) {
    const hit = cache.get(key);
    if (hit !== undefined) return hit;
  }
  const generation = cache?.generation ?? 0;
  const answer = await handle(options, request);
  const computed = {
    status: answer.status,
    json: "json" in answer ? answer.json : JSON.stringify(answer.body),
  };
  if (cacheable && computed.status === 200) cache.set(key, computed, generation);
  return computed;
}

export function createApi(options: ApiOptions): Server {
  return createServer((request, response) => {
    if (serveDashboard(request, response)) return;
    answerOf(options, request).then(
      (answer) => send(response, answer.status, null, answer.json),
      (e: unknown) => {
        if (e instanceof QueryError) {
          send(response, 400, error("bad_request", e.message));
        } else if (isDatabaseDown(e)) {
          options.log.warn("API: database unavailable", { error: e });
          send(response, 503, error("unavailable", "the database is unavailable; retry later"));
        } else {
          options.log.error("API: internal error", { path: request.url, error: e });
          send(response, 500, error("internal", "internal error"));
        }
      },
    );
  });
}

/**
 * Listens on host:port (0: any free port); resolves with the base URL. `reusePort`: other
 * processes may listen on the same port (the kernel spreads connections over them).
 */
export async function listen(
  server: Server,
  host: string,
  port: number,
  reusePort = false,
): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ port, host, reusePort, exclusive: reusePort }, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  return `http://${host}:${address.port}`;
}
