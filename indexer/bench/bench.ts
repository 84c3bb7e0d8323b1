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
 *    --api-workers N`); floor: the same load against a server answering a fixed body of the same
 *    size in N processes (static-server.ts);
 * 3. tip lag on localnet with the real registry: transaction final -> visible in the API.
 * Uses DATABASE_URL when set, otherwise an embedded PostgreSQL under indexer/.data/bench.
 * Flags: --machines N (100000), --small N (10000), --runs N (catch-up runs, 1), --concurrency N
 * (16), --seconds N (10 per search run), --processes 1,2,4, --lag-samples N (20), --skip-catch-up,
 * --skip-search, --skip-lag.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { cpus, loadavg } from "node:os";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { sql } from "kysely";
import { createApi, listen } from "../src/api/server.ts";
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
      `TARGET catch-up >= 7000 events/s: median ${rate.toFixed(0)} events/s over ${RUNS} run(s): ${verdict(rate >= 7000)}`,
    );
    print(
      `TARGET catch-up within 3x the COPY floor: median ${ratio.toFixed(2)}x: ${verdict(ratio <= 3)}`,
    );
  } finally {
    await stopChild(proc);
  }
}

async function main(): Promise<void> {
  const dbs = await databases();
  try {
    print(
      `# indexer bench (${new Date().toISOString()}, node ${process.version}, ${cpus().length} CPUs, load average ${load()})`,
    );
    if (!values["skip-catch-up"]) await catchUpBench(dbs);
  } finally {
    await dbs.stop();
  }
}

await main();
