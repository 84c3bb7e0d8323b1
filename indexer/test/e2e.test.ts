/**
 * End to end: localnet in this process with the real registry contract, the indexer following its
 * block stream (neardata paths), real registry flows, then the tables, the API's answers and a
 * full reconciliation against the contract's views. Also: source errors during a run (a flaky
 * proxy), and the CLI process killed with SIGKILL at random moments and restarted.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { App } from "../src/app.ts";
import { reconcile } from "../src/reconcile/reconcile.ts";
import { Chain, RegistryFlows } from "./support/chain.ts";
import { createTestDatabase, type TestDatabase } from "./support/db.ts";
import { dumpTables } from "./support/dump.ts";
import {
  apiGet,
  expectSameTablesInOneBatch,
  startLiveApp,
  caughtUp as waitIndexed,
} from "./support/live.ts";

type Json = Record<string, unknown>;
const CLI = fileURLToPath(new URL("../src/cli.ts", import.meta.url));
const KILL_ROUNDS = Number(process.env.INDEXER_KILL_ROUNDS ?? "4");

let chain: Chain;
let flows: RegistryFlows;
let db: TestDatabase;
let app: App;
const cleanups: (() => Promise<void> | void)[] = [];

/** The registry's indexer on `sourceUrl` (default: the chain's own stream), stopped after all. */
async function startIndexer(
  database: TestDatabase,
  sourceUrl: string,
  retryMs = 200,
): Promise<App> {
  const started = await startLiveApp(
    chain,
    database,
    ["--registry", flows.registry, "--max-lag-blocks", "3"],
    { sourceUrl, sourceRetryMs: retryMs },
  );
  cleanups.push(() => started.stop());
  return started;
}

const caughtUp = (target: App, timeoutMs?: number) => waitIndexed(target, chain, timeoutMs);
const api = (path: string) => apiGet(app, path);

beforeAll(async () => {
  chain = await Chain.start();
  flows = await RegistryFlows.deploy(chain);
  db = await createTestDatabase();
  app = await startIndexer(db, chain.streamUrl);
});

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  await db?.drop();
  await chain?.stop();
});

describe("registry flows on localnet", () => {
  const ids: Record<string, string> = {};

  test("reach the tables and the API, and the API agrees with the contract", async () => {
    const alice = await chain.createAccount("alice");
    const bob = await chain.createAccount("bob");
    const v1 = await chain.createAccount("v1");
    await flows.registerProvider(alice, "eu-west-1");
    await flows.registerProvider(bob, "us-east-1");
    await flows.addVerifier(v1);
    await flows.allowMeasurement();
    const m1 = await flows.addMachine(alice);
    const m2 = await flows.addMachine(alice, { teeType: "none-dev", price: "500" });
    const m3 = await flows.addMachine(bob, { price: "3000000000000000000" });
    Object.assign(ids, { m1: m1.id, m2: m2.id, m3: m3.id });
    await flows.postVerdict(v1, m1.id, m1.evidenceHash, true);
    await flows.postVerdict(v1, m3.id, m3.evidenceHash, false);
    // A failed call: its receipt fails, and nothing of it may reach the index.
    const failed = await chain.call(bob, flows.registry, "post_verdict", {
      machine_id: m3.id,
      evidence_hash: m3.evidenceHash,
      approve: true,
      measurements: null,
      tcb_status: "UpToDate",
    });
    expect(failed.ok).toBe(false);
    await chain.callOk(
      alice,
      flows.registry,
      "deactivate_machine",
      { machine_id: m2.id },
      10n ** 22n,
    );

    await caughtUp(app);
    const eligible = (await api("/v1/machines?eligible=true")).data as Json[];
    expect(eligible.map((m) => m.id)).toEqual([m1.id]);
    const rejected = (await api(`/v1/machines/${m3.id}`)).data as Json;
    expect(rejected.attestation_state).toBe("rejected");
    expect((await api(`/v1/machines/${m2.id}`)).data).toMatchObject({
      status: "inactive",
      tee_type: "none-dev",
    });
    for (const id of [m1.id, m2.id, m3.id]) {
      const view = await chain.view<{ eligible: boolean }>(flows.registry, "is_eligible", {
        machine_id: id,
      });
      const indexed = (await api(`/v1/machines/${id}`)).data as Json;
      expect(indexed.eligible, `machine ${id}`).toBe(view.eligible);
    }
    const providers = (await api("/v1/providers")).data as Json[];
    expect(providers.map((p) => [p.account_id, p.region, p.machine_count])).toEqual([
      [alice, "eu-west-1", 2],
      [bob, "us-east-1", 1],
    ]);
    const events = await db.db
      .selectFrom("events")
      .select(["event", "status"])
      .orderBy("block_height")
      .execute();
    expect(events.filter((e) => e.event === "verdict_posted")).toHaveLength(2);
    expect(events.every((e) => e.status === "applied")).toBe(true);

    const report = await reconcile({
      db: db.db,
      rpcUrl: chain.rpcUrl,
      contracts: { registry: flows.registry, escrow: null, governance: null },
      sample: null,
    });
    expect(report.differences).toEqual([]);
    expect(report.checked.machines).toBe(3);
    expect(report.checked.providers).toBe(2);
  });

  test("a keyset rotation reaches the API once verified, and the index agrees with the contract", async () => {
    const alice = `alice.${chain.root.accountId}`;
    const v1 = `v1.${chain.root.accountId}`;
    const before = (await api(`/v1/machines/${ids.m1}`)).data as Json;
    const models = [{ name: "qwen2.5-72b-instruct", weights_sha256: "5a".repeat(32) }];
    const next = await flows.rotateKeyset(alice, ids.m1 as string, models);
    await caughtUp(app);
    // Pending: the attested keyset still answers.
    expect((await api(`/v1/machines/${ids.m1}`)).data).toMatchObject({
      machine_public_key: before.machine_public_key,
      encryption_key: before.encryption_key,
      keyset_sha256: before.keyset_sha256,
      eligible: true,
    });
    expect((await api("/v1/machines?model=qwen2.5-72b-instruct")).data).toEqual([]);
    await flows.postVerdict(v1, ids.m1 as string, next.evidenceHash, true);
    await caughtUp(app);
    const chainView = await chain.view<Json>(flows.registry, "machine", { machine_id: ids.m1 });
    const after = (await api(`/v1/machines/${ids.m1}`)).data as Json;
    expect(after).toMatchObject({
      machine_public_key: next.key,
      encryption_key: next.encryptionKey,
      models,
      keyset_sha256: chainView.keyset_sha256,
      eligible: true,
    });
    expect(after.keyset_sha256).not.toBe(before.keyset_sha256);
    expect((after.attestation as Json).keyset_sha256).toBe(after.keyset_sha256);
    const byModel = (await api(`/v1/machines?model=${"5a".repeat(32)}`)).data as Json[];
    expect(byModel.map((m) => m.id)).toEqual([ids.m1]);
    const report = await reconcile({
      db: db.db,
      rpcUrl: chain.rpcUrl,
      contracts: { registry: flows.registry, escrow: null, governance: null },
      sample: null,
    });
    expect(report.differences).toEqual([]);
  });

  test("follows the tip: a change is in the API shortly after it is final", async () => {
    const alice = `alice.${chain.root.accountId}`;
    const started = performance.now();
    await chain.callOk(alice, flows.registry, "update_machine_price", {
      machine_id: ids.m1,
      price_per_unit: "1500000000000000000",
    });
    const final = performance.now();
    for (;;) {
      const machine = (await api(`/v1/machines/${ids.m1}`)).data as Json;
      if (machine.price_per_unit === "1500000000000000000") break;
      expect(performance.now() - final).toBeLessThan(5_000);
      await sleep(5);
    }
    expect(performance.now() - started).toBeLessThan(10_000);
    const health = await api("/health");
    expect(health).toMatchObject({ ready: true, lag_blocks: 0, database: "ok" });
  });

  test("reconciliation reports a record the database got wrong", async () => {
    await caughtUp(app);
    await db.db
      .updateTable("machines")
      .set({ price_per_unit: "1" })
      .where("id", "=", ids.m3 ?? "")
      .execute();
    try {
      const report = await reconcile({
        db: db.db,
        rpcUrl: chain.rpcUrl,
        contracts: { registry: flows.registry, escrow: null, governance: null },
        sample: null,
      });
      expect(report.differences).toEqual([
        {
          table: "machines",
          key: ids.m3,
          field: "price_per_unit",
          database: "1",
          chain: "3000000000000000000",
        },
      ]);
    } finally {
      await db.db
        .updateTable("machines")
        .set({ price_per_unit: "3000000000000000000" })
        .where("id", "=", ids.m3 ?? "")
        .execute();
    }
  });

  test("indexed again from scratch in one batch, the tables are those of following block by block", async () => {
    await caughtUp(app);
    await expectSameTablesInOneBatch(chain, db, {
      registry: flows.registry,
      escrow: null,
      governance: null,
    });
  });
});

/** An HTTP proxy to localnet that fails some requests (500, a cut connection, a slow answer). */
async function flakyProxy(
  target: string,
  failEvery: number,
): Promise<{ url: string; failures: () => number; server: Server }> {
  let count = 0;
  let failures = 0;
  const server = createServer(async (request, response) => {
    count++;
    if (count % failEvery === 0) {
      failures++;
      if (failures % 2 === 0) {
        response.writeHead(500).end("upstream exploded");
      } else {
        request.socket.destroy();
      }
      return;
    }
    const upstream = await fetch(`${target}${request.url}`, { redirect: "manual" }).catch(
      () => null,
    );
    if (upstream === null) {
      response.writeHead(502).end();
      return;
    }
    const headers: Record<string, string> = { "content-type": "application/json" };
    const location = upstream.headers.get("location");
    if (location !== null) headers.location = location;
    response.writeHead(upstream.status, headers).end(Buffer.from(await upstream.arrayBuffer()));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    failures: () => failures,
    server,
  };
}

describe("failures during a run", () => {
  test("source errors are retried and change nothing in the result", async () => {
    const reference = await caughtUp(app);
    const proxy = await flakyProxy(chain.streamUrl, 3);
    const other = await createTestDatabase();
    cleanups.push(() => other.drop());
    const flaky = await startIndexer(other, proxy.url, 5);
    await caughtUp(flaky);
    expect(proxy.failures()).toBeGreaterThan(5);
    expect(flaky.indexer?.status.lastError).toMatch(/^source: /);
    expect(flaky.indexer?.status.height).toBeGreaterThanOrEqual(reference);
    await flaky.stop();
    await caughtUp(app);
    expect(await dumpTables(other)).toEqual(await dumpTables(db));
  });

  // 4 kills here; the reliability run (sandbox-tests/reliability) sets INDEXER_KILL_ROUNDS to 100+.
  test(
    `the indexer process killed at ${KILL_ROUNDS} random moments and restarted loses and duplicates nothing`,
    async () => {
      const other = await createTestDatabase();
      cleanups.push(() => other.drop());
      const args = [
        CLI,
        "run",
        "--registry",
        flows.registry,
        "--source-url",
        chain.streamUrl,
        "--start-height",
        "0",
        "--api-port",
        "0",
        "--batch-blocks",
        "2",
        "--log-level",
        "warn",
      ];
      const start = (): ChildProcess =>
        spawn(process.execPath, args, {
          env: { ...process.env, DATABASE_URL: other.url },
          stdio: "ignore",
        });
      const carol = await chain.createAccount("carol");
      await flows.registerProvider(carol, "ap-south-1");
      let kills = 0;
      for (let round = 0; round < KILL_ROUNDS; round++) {
        const child = start();
        const exited = new Promise((resolve) => child.once("exit", resolve));
        // Work goes on while the indexer runs: new machines and price changes.
        const machine = await flows.addMachine(carol, { price: String(1000 + round) });
        await chain.callOk(carol, flows.registry, "update_machine_price", {
          machine_id: machine.id,
          price_per_unit: String(2000 + round),
        });
        await sleep(50 + Math.random() * 400);
        child.kill("SIGKILL");
        kills++;
        await exited;
      }
      const final = start();
      const exited = new Promise((resolve) => final.once("exit", resolve));
      try {
        const target = await caughtUp(app);
        const deadline = Date.now() + 30_000;
        for (;;) {
          const row = await other.db
            .selectFrom("indexer_cursor")
            .select("height")
            .executeTakeFirst();
          if (row !== undefined && Number(row.height) >= target) break;
          if (Date.now() > deadline) throw new Error(`restarted indexer did not reach ${target}`);
          await sleep(50);
        }
      } finally {
        final.kill("SIGTERM");
        await exited;
      }
      expect(kills).toBe(KILL_ROUNDS);
      expect(await dumpTables(other)).toEqual(await dumpTables(db));
      const report = await reconcile({
        db: other.db,
        rpcUrl: chain.rpcUrl,
        contracts: { registry: flows.registry, escrow: null, governance: null },
        sample: null,
      });
      expect(report.differences).toEqual([]);
    },
    60_000 + KILL_ROUNDS * 5_000,
  );
});
