/**
 * The indexer's figures (npm run bench -w @gpu-market/indexer):
 * 1. catch-up: a generated chain (>= 100,000 events) served at neardata's paths over HTTP,
 *    indexed from scratch: blocks/s and events/s;
 * 2. API latency of the machine search (p50/p99) at 10,000 and 100,000 machines under
 *    concurrent load;
 * 3. block-to-API lag at the tip on localnet with the real registry.
 * Uses DATABASE_URL when set, otherwise an embedded PostgreSQL under indexer/.data/bench.
 * Flags: --machines N (large size, default 100000), --small N (10000), --concurrency N (16),
 * --seconds N (10 per size), --lag-samples N (20), --skip-lag.
 */
import { cpus, loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { sql } from "kysely";
import { createApi, listen } from "../src/api/server.ts";
import { type DatabaseHandle, openDatabase } from "../src/db/database.ts";
import { startEmbeddedPostgres } from "../src/db/embedded.ts";
import { migrateToLatest } from "../src/db/migrate.ts";
import { Indexer } from "../src/indexer.ts";
import { silentLogger } from "../src/log.ts";
import { NeardataSource } from "../src/source/neardata.ts";
import { Chain, RegistryFlows } from "../test/support/chain.ts";
import { serveBlocks } from "./neardata-server.ts";
import { syntheticChain } from "./synthetic-chain.ts";

const { values } = parseArgs({
  options: {
    machines: { type: "string", default: "100000" },
    small: { type: "string", default: "10000" },
    concurrency: { type: "string", default: "16" },
    seconds: { type: "string", default: "10" },
    "lag-samples": { type: "string", default: "20" },
    "skip-lag": { type: "boolean", default: false },
  },
});
const LARGE = Number(values.machines);
const SMALL = Number(values.small);
const CONCURRENCY = Number(values.concurrency);
const SECONDS = Number(values.seconds);
const LAG_SAMPLES = Number(values["lag-samples"]);
const REGISTRY = "registry.bench.near";
const CONTRACTS = { registry: REGISTRY, escrow: null, governance: null };

function print(line: string): void {
  process.stdout.write(`${line}\n`);
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? Number.NaN;
}

async function databases(): Promise<{
  create(name: string): Promise<DatabaseHandle>;
  stop(): Promise<void>;
}> {
  let adminUrl = process.env.DATABASE_URL;
  let stop = async () => {};
  if (adminUrl === undefined) {
    const server = await startEmbeddedPostgres({
      dataDir: fileURLToPath(new URL("../.data/bench", import.meta.url)),
      port: 54398,
    });
    adminUrl = server.url();
    stop = () => server.stop();
  }
  const base = adminUrl;
  return {
    stop,
    async create(name: string) {
      const admin = openDatabase(base, { max: 1 });
      await sql.raw(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).execute(admin.db);
      await sql.raw(`CREATE DATABASE ${name}`).execute(admin.db);
      await admin.close();
      const url = new URL(base);
      url.pathname = `/${name}`;
      const handle = openDatabase(url.toString(), { max: 20 });
      await migrateToLatest(handle.db);
      return handle;
    },
  };
}

/** Indexes a generated chain with `machines` machines over HTTP; returns the figures. */
async function catchUp(db: DatabaseHandle, machines: number) {
  const blocks = new Map<number, string>();
  let events = 0;
  let final = 0;
  for (const message of syntheticChain({ registry: REGISTRY, providers: 500, machines })) {
    const header = (message.block as { header: { height: number } }).header;
    const shard = (message.shards as { receipt_execution_outcomes: unknown[] }[])[0];
    events += shard?.receipt_execution_outcomes.length ?? 0;
    blocks.set(header.height, JSON.stringify(message));
    final = header.height;
  }
  const { url, server } = await serveBlocks(blocks, final);
  const indexer = new Indexer({
    db: db.db,
    source: new NeardataSource({ url }),
    contracts: CONTRACTS,
    network: "bench",
    startHeight: 1,
    log: silentLogger,
    prefetch: 64,
    batchBlocks: 50,
  });
  const controller = new AbortController();
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  const run = indexer.run(controller.signal);
  while (indexer.status.height < final) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  // This process (indexer and the block server) only; PostgreSQL's own CPU is not counted.
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  controller.abort();
  await run;
  server.close();
  // What autovacuum does soon after a bulk load; the planner needs the statistics.
  await sql`ANALYZE`.execute(db.db);
  const stored = await db.db
    .selectFrom("events")
    .select(db.db.fn.countAll<string>().as("n"))
    .executeTakeFirstOrThrow();
  if (Number(stored.n) !== events)
    throw new Error(`indexed ${stored.n} events, generated ${events}`);
  return { blocks: final, events, seconds, cpuSeconds };
}

const QUERIES = [
  "/v1/machines?eligible=true",
  "/v1/machines?gpu_model=h100&min_vram_mib=80000&max_price=50000000000000000000&eligible=true",
  "/v1/machines?tee_type=tdx&region=eu-west-1&sort=price&limit=50",
  "/v1/machines?min_vram_mib=100000&sort=price",
  "/v1/machines?gpu_model=l40s&eligible=true&sort=price&limit=100",
];

async function load(db: DatabaseHandle) {
  const server = createApi({ db: db.db, log: silentLogger, health: { maxLagBlocks: 30 } });
  const base = await listen(server, "127.0.0.1", 0);
  const latencies: number[] = [];
  let errors = 0;
  const deadline = performance.now() + SECONDS * 1000;
  const worker = async (seed: number) => {
    for (let i = seed; performance.now() < deadline; i++) {
      const path = QUERIES[i % QUERIES.length] as string;
      const started = performance.now();
      const response = await fetch(`${base}${path}`);
      await response.arrayBuffer();
      if (response.status !== 200) errors++;
      latencies.push(performance.now() - started);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, (_, i) => worker(i)));
  server.closeAllConnections();
  server.close();
  latencies.sort((a, b) => a - b);
  return {
    requests: latencies.length,
    errors,
    rps: latencies.length / SECONDS,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
  };
}

async function tipLag(db: DatabaseHandle) {
  const chain = await Chain.start();
  try {
    const flows = await RegistryFlows.deploy(chain, "registry");
    const provider = await chain.createAccount("provider");
    await flows.registerProvider(provider);
    const machine = await flows.addMachine(provider);
    const indexer = new Indexer({
      db: db.db,
      source: new NeardataSource({ url: chain.streamUrl }),
      contracts: { registry: flows.registry, escrow: null, governance: null },
      network: "localnet",
      startHeight: 0,
      log: silentLogger,
    });
    const controller = new AbortController();
    const run = indexer.run(controller.signal);
    const server = createApi({ db: db.db, log: silentLogger, health: { maxLagBlocks: 30 } });
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
    server.close();
    afterFinal.sort((a, b) => a - b);
    afterBlock.sort((a, b) => a - b);
    return { afterFinal, afterBlock };
  } finally {
    await chain.stop();
  }
}

const dbs = await databases();
try {
  print(
    `# indexer bench (${new Date().toISOString()}, node ${process.version}, ${cpus().length} CPUs, load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(" ")})`,
  );
  const large = await dbs.create("bench_large");
  const c = await catchUp(large, LARGE);
  print(
    `catch-up: ${c.blocks} blocks, ${c.events} events in ${c.seconds.toFixed(1)} s: ` +
      `${(c.blocks / c.seconds).toFixed(0)} blocks/s, ${(c.events / c.seconds).toFixed(0)} events/s ` +
      `(this process used ${c.cpuSeconds.toFixed(1)} CPU s: ${(c.events / c.cpuSeconds).toFixed(0)} events per CPU second)`,
  );
  const small = await dbs.create("bench_small");
  await catchUp(small, SMALL);
  for (const [label, db, size] of [
    ["small", small, SMALL],
    ["large", large, LARGE],
  ] as const) {
    const r = await load(db);
    print(
      `machine search at ${size} machines (${label}), ${CONCURRENCY} concurrent clients, ${SECONDS} s: ` +
        `${r.requests} requests (${r.rps.toFixed(0)}/s, ${r.errors} errors), ` +
        `p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms`,
    );
  }
  await small.close();
  await large.close();
  if (!values["skip-lag"]) {
    const lagDb = await dbs.create("bench_lag");
    const lag = await tipLag(lagDb);
    print(
      `tip lag over ${LAG_SAMPLES} changes: tx final -> visible in API p50 ${percentile(lag.afterFinal, 50).toFixed(1)} ms, ` +
        `max ${Math.max(...lag.afterFinal).toFixed(1)} ms; block timestamp -> visible p50 ` +
        `${percentile(lag.afterBlock, 50).toFixed(1)} ms, max ${Math.max(...lag.afterBlock).toFixed(1)} ms`,
    );
    await lagDb.close();
  }
} finally {
  await dbs.stop();
}
