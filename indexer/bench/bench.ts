/**
 * The indexer's figures (npm run bench -w @gpu-market/indexer), each printed with its target and
 * with the floor measured in the same run (the machine is shared, so absolute figures move with
 * its load; the ratio to a floor measured beside them does much less):
 * 1. catch-up: a generated chain (195k events at 100k machines) served at neardata's paths by its
 *    own process, indexed from scratch; then the event count and reconcile (every table against
 *    the chain's views); floor: PostgreSQL's COPY of the rows the index ended with into fresh,
 *    identical tables (copy-floor.ts);
 * 2. machine search at 10k and 100k machines: the five searches, 16 concurrent clients from
 *    autocannon in its own process (load.ts), against the API in N processes (`serve
 *    --api-workers N`), answer cache off and on (with a commit notification every second, as
 *    on a live chain); floor: the same load against a server answering a fixed body of the same
 *    size in N processes (static-server.ts);
 * 3. tip lag on localnet with the real registry: transaction final -> visible in the API.
 * Uses DATABASE_URL when set, otherwise an embedded PostgreSQL under indexer/.data/bench.
 * Flags: --machines N (100000), --small N (10000), --runs N (catch-up runs, 1), --concurrency N
 * (16), --seconds N (10 per search run), --processes 1,2,4, --lag-samples N (20), --skip-catch-up,
 * --skip-search, --skip-lag.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { type AddressInfo, createServer as createNetServer } from "node:net";
import { cpus, loadavg } from "node:os";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { sql } from "kysely";
import { AnswerCache } from "../src/api/cache.ts";
import { createApi, listen } from "../src/api/server.ts";
import { CURSOR_CHANNEL } from "../src/db/cursor.ts";
import { type DatabaseHandle, openDatabase } from "../src/db/database.ts";
import { startEmbeddedPostgres } from "../src/db/embedded.ts";
import { migrateToLatest } from "../src/db/migrate.ts";
import { Indexer } from "../src/indexer.ts";
import { silentLogger } from "../src/log.ts";
import { reconcile } from "../src/reconcile/reconcile.ts";
import { NeardataSource } from "../src/source/neardata.ts";
import { Chain, RegistryFlows } from "../test/support/chain.ts";
import { copyFloor } from "./copy-floor.ts";

const { values } = parseArgs({
  options: {
    machines: { type: "string", default: "100000" },
    small: { type: "string", default: "10000" },
    runs: { type: "string", default: "1" },
    concurrency: { type: "string", default: "16" },
    seconds: { type: "string", default: "10" },
    processes: { type: "string", default: "1,2,4" },
    "lag-samples": { type: "string", default: "20" },
    "skip-catch-up": { type: "boolean", default: false },
    "skip-search": { type: "boolean", default: false },
    "skip-lag": { type: "boolean", default: false },
  },
});
const LARGE = Number(values.machines);
const SMALL = Number(values.small);
const RUNS = Number(values.runs);
const CONCURRENCY = Number(values.concurrency);
const SECONDS = Number(values.seconds);
const PROCESSES = values.processes.split(",").map(Number);
const LAG_SAMPLES = Number(values["lag-samples"]);
const REGISTRY = "registry.bench.near";
const CONTRACTS = { registry: REGISTRY, escrow: null, governance: null };
const HERE = new URL(".", import.meta.url);
const CLI = fileURLToPath(new URL("../src/cli.ts", HERE));

/** The five searches of the search bench. */
export const QUERIES = [
  "/v1/machines?eligible=true",
  "/v1/machines?gpu_model=h100&min_vram_mib=80000&max_price=50000000000000000000&eligible=true",
  "/v1/machines?tee_type=tdx&region=eu-west-1&sort=price&limit=50",
  "/v1/machines?min_vram_mib=100000&sort=price",
  "/v1/machines?gpu_model=l40s&eligible=true&sort=price&limit=100",
];

function print(line: string): void {
  process.stdout.write(`${line}\n`);
}

function load(): string {
  return loadavg()
    .map((l) => l.toFixed(1))
    .join(" ");
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? Number.NaN;
}

function verdict(ok: boolean): string {
  return ok ? "met" : "NOT met";
}

interface Databases {
  url(name: string): string;
  create(name: string): Promise<DatabaseHandle>;
  stop(): Promise<void>;
}

async function databases(): Promise<Databases> {
  let adminUrl = process.env.DATABASE_URL;
  let stop = async () => {};
  if (adminUrl === undefined) {
    const server = await startEmbeddedPostgres({
      dataDir: fileURLToPath(new URL("../.data/bench", HERE)),
      port: 54398,
    });
    adminUrl = server.url();
    stop = () => server.stop();
  }
  const base = adminUrl;
  const url = (name: string) => {
    const u = new URL(base);
    u.pathname = `/${name}`;
    return u.toString();
  };
  return {
    url,
    stop,
    async create(name: string) {
      const admin = openDatabase(base, { max: 1 });
      await sql.raw(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).execute(admin.db);
      await sql.raw(`CREATE DATABASE ${name}`).execute(admin.db);
      await admin.close();
      const handle = openDatabase(url(name), { max: 20 });
      await migrateToLatest(handle.db);
      return handle;
    },
  };
}

/** A child process that prints one JSON line when ready; resolves with it. */
async function child<T>(args: string[], env: NodeJS.ProcessEnv = process.env) {
  const proc = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"], env });
  const lines = createInterface({ input: proc.stdout });
  const [first] = (await Promise.race([
    once(lines, "line"),
    once(proc, "exit").then(([code]) => {
      throw new Error(`${args.join(" ")} exited with ${code} before it was ready`);
    }),
  ])) as [string];
  return { proc, ready: JSON.parse(first) as T };
}

async function stopChild(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = once(proc, "exit");
  proc.kill("SIGTERM");
  await exited;
}

interface ChainInfo {
  url: string;
  final: number;
  events: number;
}

/** Indexes the chain at `chain.url` from scratch; checks the event count and reconciles. */
async function catchUp(db: DatabaseHandle, chain: ChainInfo) {
  const indexer = new Indexer({
    pool: db.pool,
    source: new NeardataSource({ url: chain.url }),
    contracts: CONTRACTS,
    network: "bench",
    startHeight: 1,
    log: silentLogger,
  });
  const controller = new AbortController();
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  const run = indexer.run(controller.signal);
  while (indexer.status.height < chain.final) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  // This process only (the indexer); PostgreSQL's CPU and the block server's are not counted.
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  controller.abort();
  await run;
  const stored = await db.db
    .selectFrom("events")
    .select(db.db.fn.countAll<string>().as("n"))
    .executeTakeFirstOrThrow();
  if (Number(stored.n) !== chain.events) {
    throw new Error(`indexed ${stored.n} events, the chain has ${chain.events}`);
  }
  return { seconds, cpuSeconds };
}

async function catchUpBench(dbs: Databases): Promise<void> {
  const { proc, ready: chain } = await child<ChainInfo>([
    fileURLToPath(new URL("neardata-server.ts", HERE)),
    "--machines",
    String(LARGE),
    "--registry",
    REGISTRY,
  ]);
  try {
    print(
      `catch-up chain: ${chain.final} blocks, ${chain.events} events (${LARGE} machines), served by its own process`,
    );
    const rates: number[] = [];
    const floorRates: number[] = [];
    const ratios: number[] = [];
    for (let run = 1; run <= RUNS; run++) {
      const db = await dbs.create("bench_large");
      const loadBefore = load();
      const c = await catchUp(db, chain);
      const rate = chain.events / c.seconds;
      const reconcileStarted = performance.now();
      const report = await reconcile({
        db: db.db,
        rpcUrl: chain.url,
        contracts: CONTRACTS,
        sample: null,
      });
      if (report.differences.length > 0) {
        throw new Error(
          `reconcile found ${report.differences.length} differences, first ${JSON.stringify(report.differences[0])}`,
        );
      }
      const checked = Object.entries(report.checked)
        .map(([table, n]) => `${table} ${n}`)
        .join(", ");
      const floorDb = await dbs.create("bench_floor");
      const floor = await copyFloor(db.pool, floorDb.pool);
      await floorDb.close();
      const ratio = c.seconds / floor.seconds;
      rates.push(rate);
      floorRates.push(chain.events / floor.seconds);
      ratios.push(ratio);
      print(
        `catch-up run ${run} (load ${loadBefore} -> ${load()}): ${c.seconds.toFixed(1)} s, ` +
          `${(chain.final / c.seconds).toFixed(0)} blocks/s, ${rate.toFixed(0)} events/s; ` +
          `indexer CPU ${c.cpuSeconds.toFixed(1)} s (${(chain.events / c.cpuSeconds).toFixed(0)} events per CPU second); ` +
          `event count equal; reconcile clean in ${((performance.now() - reconcileStarted) / 1000).toFixed(1)} s (${checked}); ` +
          `floor (COPY of the final ${floor.rows} rows, ${(floor.bytes / 1e6).toFixed(0)} MB): ${floor.seconds.toFixed(1)} s, ` +
          `${(chain.events / floor.seconds).toFixed(0)} events/s; indexer = ${ratio.toFixed(2)}x the floor`,
      );
      await db.close();
    }
    const rate = median(rates);
    const ratio = median(ratios);
    print(
      `TARGET catch-up >= 7000 events/s: median ${rate.toFixed(0)} events/s over ${RUNS} run(s) (the COPY floor: median ${median(floorRates).toFixed(0)} events/s): ${verdict(rate >= 7000)}`,
    );
    print(
      `TARGET catch-up within 3x the COPY floor: median ${ratio.toFixed(2)}x: ${verdict(ratio <= 3)}`,
    );
  } finally {
    await stopChild(proc);
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createNetServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

/** Indexes a chain of `machines` machines into database `name` (no figures). */
async function indexChain(dbs: Databases, name: string, machines: number): Promise<void> {
  const { proc, ready: chain } = await child<ChainInfo>([
    fileURLToPath(new URL("neardata-server.ts", HERE)),
    "--machines",
    String(machines),
    "--registry",
    REGISTRY,
  ]);
  try {
    const db = await dbs.create(name);
    await catchUp(db, chain);
    await sql`ANALYZE`.execute(db.db);
    await db.close();
  } finally {
    await stopChild(proc);
  }
}

interface LoadResult {
  requests: number;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
  bytesPerRequest: number;
}

/** autocannon in its own process against `url`, cycling through the five searches. */
async function loadRun(url: string): Promise<LoadResult> {
  const proc = spawn(
    process.execPath,
    [
      fileURLToPath(new URL("load.ts", HERE)),
      "--url",
      url,
      "--connections",
      String(CONCURRENCY),
      "--seconds",
      String(SECONDS),
      ...QUERIES,
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  let out = "";
  proc.stdout.on("data", (chunk: Buffer) => {
    out += chunk.toString("utf8");
  });
  const [code] = await once(proc, "exit");
  if (code !== 0) throw new Error(`load generator exited with ${code}`);
  return JSON.parse(out) as LoadResult;
}

/** The API (`serve`) in `processes` processes on database `name`; resolves once it answers. */
async function startApi(dbs: Databases, name: string, processes: number, cache: boolean) {
  const port = await freePort();
  const proc = spawn(
    process.execPath,
    [
      CLI,
      "serve",
      "--api-port",
      String(port),
      "--api-workers",
      String(processes),
      "--log-level",
      "warn",
      cache ? "--api-cache" : "--no-api-cache",
    ],
    { stdio: "inherit", env: { ...process.env, DATABASE_URL: dbs.url(name) } },
  );
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    const ok = await fetch(`${url}/health`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (proc.exitCode !== null || Date.now() > deadline) throw new Error("the API did not start");
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { url, proc };
}

function describeLoad(r: LoadResult): string {
  return (
    `${r.rps.toFixed(0)} requests/s, p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms ` +
    `(${r.requests} requests, ${r.errors} errors, ${r.non2xx} non-2xx)`
  );
}

async function searchBench(dbs: Databases, largeIndexed: boolean): Promise<void> {
  if (largeIndexed) {
    // What autovacuum does soon after a bulk load; the planner needs the statistics.
    const large = openDatabase(dbs.url("bench_large"), { max: 1 });
    await sql`ANALYZE`.execute(large.db);
    await large.close();
  } else {
    await indexChain(dbs, "bench_large", LARGE);
  }
  await indexChain(dbs, "bench_small", SMALL);
  const best = new Map<boolean, { n: number; r: LoadResult }>();
  let bytes = 0;
  for (const [name, size] of [
    ["bench_small", SMALL],
    ["bench_large", LARGE],
  ] as const) {
    for (const n of PROCESSES) {
      for (const cache of [false, true]) {
        const api = await startApi(dbs, name, n, cache);
        // As on a live chain: a commit (and its notification, which empties the caches) every
        // second, NEAR's block time.
        const ticker = openDatabase(dbs.url(name), { max: 1 });
        const tick = setInterval(() => {
          sql`SELECT pg_notify(${CURSOR_CHANNEL}, 'tick')`.execute(ticker.db).catch(() => {});
        }, 1000);
        let r: LoadResult;
        try {
          r = await loadRun(api.url);
        } finally {
          clearInterval(tick);
          await ticker.close();
          await stopChild(api.proc);
        }
        if (r.errors > 0 || r.non2xx > 0)
          throw new Error(`search run failed: ${JSON.stringify(r)}`);
        print(
          `search at ${size} machines, ${CONCURRENCY} clients, API in ${n} process(es), cache ${cache ? "on" : "off"} (load ${load()}): ${describeLoad(r)}`,
        );
        if (size === LARGE) {
          bytes = Math.max(bytes, r.bytesPerRequest);
          const previous = best.get(cache);
          if (previous === undefined || r.rps > previous.r.rps) best.set(cache, { n, r });
        }
      }
    }
  }
  const floors = new Map<number, LoadResult>();
  for (const n of PROCESSES) {
    const port = await freePort();
    const { proc } = await child<{ url: string }>([
      fileURLToPath(new URL("static-server.ts", HERE)),
      "--port",
      String(port),
      "--processes",
      String(n),
      "--bytes",
      String(Math.round(bytes)),
    ]);
    try {
      const r = await loadRun(`http://127.0.0.1:${port}`);
      floors.set(n, r);
      print(
        `floor: a fixed ${Math.round(bytes)}-byte answer from ${n} process(es), same load: ${describeLoad(r)}`,
      );
    } finally {
      await stopChild(proc);
    }
  }
  for (const [cache, { n, r }] of best) {
    const floor = floors.get(n);
    const ratio =
      floor === undefined
        ? ""
        : `; ${((100 * r.rps) / floor.rps).toFixed(0)}% of the floor's requests/s and ${(r.p99 / floor.p99).toFixed(1)}x its p99 (${floor.p99.toFixed(1)} ms) with ${n} process(es)`;
    const met = r.p99 <= 20 && r.rps >= 1500;
    print(
      `TARGET search at ${LARGE} machines, p99 <= 20 ms and >= 1500 requests/s, cache ${cache ? "on" : "off"}: best with ${n} process(es): ${describeLoad(r)}${ratio}: ${verdict(met)}`,
    );
  }
}

async function tipLag(dbs: Databases): Promise<void> {
  const db = await dbs.create("bench_lag");
  const chain = await Chain.start();
  try {
    const flows = await RegistryFlows.deploy(chain, "registry");
    const provider = await chain.createAccount("provider");
    await flows.registerProvider(provider);
    const machine = await flows.addMachine(provider);
    const indexer = new Indexer({
      pool: db.pool,
      source: new NeardataSource({ url: chain.streamUrl }),
      contracts: { registry: flows.registry, escrow: null, governance: null },
      network: "localnet",
      startHeight: 0,
      log: silentLogger,
    });
    const controller = new AbortController();
    const run = indexer.run(controller.signal);
    // The API as `run` serves it by default: answers cached until a commit notifies.
    const cache = new AnswerCache(db.pool.options, silentLogger);
    await cache.start();
    const server = createApi({
      db: db.db,
      pool: db.pool,
      cache,
      log: silentLogger,
      health: { maxLagBlocks: 30 },
    });
    const base = await listen(server, "127.0.0.1", 0);
    const afterFinal: number[] = [];
    const afterBlock: number[] = [];
    for (let i = 0; i < LAG_SAMPLES; i++) {
      const price = String(10n ** 18n + BigInt(i + 1));
      await chain.callOk(provider, flows.registry, "update_machine_price", {
        machine_id: machine.id,
        price_per_unit: price,
      });
      const finalAt = performance.now();
      for (;;) {
        const response = await fetch(`${base}/v1/machines/${machine.id}`);
        const body = (await response.json()) as { data?: { price_per_unit: string } };
        if (body.data?.price_per_unit === price) break;
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
      const visibleAt = performance.now();
      afterFinal.push(visibleAt - finalAt);
      const row = await db.db
        .selectFrom("events")
        .select("block_timestamp")
        .where("event", "=", "machine_price_updated")
        .orderBy("block_height", "desc")
        .limit(1)
        .executeTakeFirstOrThrow();
      const wallNow = Date.now() - (performance.now() - visibleAt);
      afterBlock.push(wallNow - Number(BigInt(row.block_timestamp) / 1_000_000n));
    }
    controller.abort();
    await run;
    server.closeAllConnections();
    server.close();
    await cache.stop();
    afterFinal.sort((a, b) => a - b);
    afterBlock.sort((a, b) => a - b);
    const p50 = percentile(afterFinal, 50);
    print(
      `tip lag over ${LAG_SAMPLES} changes (load ${load()}): tx final -> visible in the API p50 ${p50.toFixed(1)} ms, ` +
        `max ${Math.max(...afterFinal).toFixed(1)} ms; block timestamp -> visible p50 ` +
        `${percentile(afterBlock, 50).toFixed(1)} ms, max ${Math.max(...afterBlock).toFixed(1)} ms`,
    );
    print(
      `TARGET tip lag p50 under one block after finality (600 ms, NEAR's shortest block time): ${p50.toFixed(1)} ms: ${verdict(p50 < 600)}`,
    );
  } finally {
    await chain.stop();
    await db.close();
  }
}

async function main(): Promise<void> {
  const dbs = await databases();
  try {
    print(
      `# indexer bench (${new Date().toISOString()}, node ${process.version}, ${cpus().length} CPUs, load average ${load()})`,
    );
    const caughtUp = !values["skip-catch-up"];
    if (caughtUp) await catchUpBench(dbs);
    if (!values["skip-search"]) await searchBench(dbs, caughtUp);
    if (!values["skip-lag"]) await tipLag(dbs);
  } finally {
    await dbs.stop();
  }
}

await main();
