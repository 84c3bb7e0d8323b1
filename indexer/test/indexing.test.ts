/**
 * The indexing loop over recorded blocks: the tables it builds, skipped heights, crashes inside
 * and between blocks, a database outage, another chain, unknown and inconsistent events.
 */
import { sql } from "kysely";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import type { Contracts } from "../src/decode/contracts.ts";
import { ChainMismatchError, Indexer, type IndexerOptions } from "../src/indexer.ts";
import { silentLogger } from "../src/log.ts";
import { reindexFrom } from "../src/reindex.ts";
import { asAdmin, createTestDatabase, type TestDatabase, truncateAll } from "./support/db.ts";
import { dumpTables } from "./support/dump.ts";
import { copy, heightOf, loadFlow, MemorySource } from "./support/fixtures.ts";
import { runInBackground } from "./support/run.ts";

type Raw = Record<string, unknown>;

const flow = loadFlow();
const messages = flow.blocks.filter((m): m is Raw => m !== null);
const first = heightOf(messages[0] as Raw);
const last = heightOf(messages[messages.length - 1] as Raw);
const contracts: Contracts = { registry: flow.registry, escrow: null, governance: null };

let db: TestDatabase;
let reference: Record<string, unknown[]>;

function indexer(source: MemorySource, options: Partial<IndexerOptions> = {}): Indexer {
  return new Indexer({
    pool: db.pool,
    source,
    contracts,
    network: "localnet",
    startHeight: first,
    log: silentLogger,
    tipPollMs: 5,
    ...options,
  });
}

async function indexAll(
  source = new MemorySource(messages),
  options: Partial<IndexerOptions> = {},
) {
  const running = runInBackground(indexer(source, options));
  await running.reach(source.final);
  await running.stop();
}

/**
 * Runs until the signal aborts (a simulated stop or crash: true) or the indexer reaches `height`
 * (false).
 */
async function runUntil(
  run: Indexer,
  controller: AbortController,
  height: number,
): Promise<boolean> {
  const watch = setInterval(() => {
    if (run.status.height >= height) controller.abort("done");
  }, 5);
  try {
    await run.run(controller.signal);
  } finally {
    clearInterval(watch);
  }
  return controller.signal.reason !== "done";
}

beforeAll(async () => {
  db = await createTestDatabase();
  await indexAll();
  reference = await dumpTables(db);
});

afterEach(async () => {
  await truncateAll(db);
});

afterAll(async () => {
  await db?.drop();
});

describe("the recorded registry flow", () => {
  test("fills the registry's tables from its events", async () => {
    // The reference run is the one beforeAll made; index again to inspect it here.
    await indexAll();
    const cursor = await db.db.selectFrom("indexer_cursor").selectAll().executeTakeFirstOrThrow();
    expect(cursor.height).toBe(String(last));
    expect(cursor.network).toBe("localnet");

    const state = await db.db.selectFrom("registry_state").selectAll().executeTakeFirstOrThrow();
    expect(state).toMatchObject({ contract: flow.registry, owner: flow.owner, threshold: 1 });
    expect(state.dev_mode).toBe(false);

    const provider = await db.db.selectFrom("providers").selectAll().executeTakeFirstOrThrow();
    expect(provider).toMatchObject({
      account_id: flow.provider,
      status: "active",
      region: "eu-west-1",
    });
    expect(BigInt(provider.bond)).toBeGreaterThan(10n ** 24n);

    const machine = await db.db.selectFrom("machines").selectAll().executeTakeFirstOrThrow();
    expect(machine).toMatchObject({
      id: flow.machineId,
      provider: flow.provider,
      tee_type: "tdx",
      price_per_unit: "2000000000000000000",
      status: "active",
      gpu_count: 1,
      max_vram_mib: 81559,
      verdict_outcome: "verified",
      approvals: 1,
    });
    const gpus = await db.db.selectFrom("machine_gpus").selectAll().execute();
    expect(gpus).toEqual([
      expect.objectContaining({ model: "NVIDIA H100 80GB HBM3", count: 1, cc_mode: "on" }),
    ]);
    const attestation = await db.db
      .selectFrom("attestations")
      .selectAll()
      .executeTakeFirstOrThrow();
    expect(attestation.approvers).toEqual([flow.verifier]);
    expect(attestation.evidence_hash).toBe(machine.evidence_hash);
    expect(await db.db.selectFrom("verifiers").select("account_id").execute()).toEqual([
      { account_id: flow.verifier },
    ]);
    expect(await db.db.selectFrom("allowlist").select("label").execute()).toEqual([
      { label: "H100 CC image v1" },
    ]);
    const verdicts = await db.db.selectFrom("verdicts").selectAll().execute();
    expect(verdicts).toEqual([
      expect.objectContaining({ verifier: flow.verifier, approve: true, outcome: "verified" }),
    ]);
    const events = await db.db.selectFrom("events").select(["event", "status"]).execute();
    expect(events).toHaveLength(8);
    expect(events.every((e) => e.status === "applied")).toBe(true);
  });

  test("heights the chain skipped are told apart from unproduced ones", async () => {
    // Spread the recorded blocks over every third height (prev_hash still chains them).
    const spread = messages.map((m) => {
      const message = copy(m) as { block: { header: { height: number; prev_height: number } } };
      message.block.header.height = m === messages[0] ? first : first + (heightOf(m) - first) * 3;
      return message as unknown as Raw;
    });
    const source = new MemorySource(spread);
    source.final = heightOf(spread[spread.length - 1] as Raw) + 5;
    const running = runInBackground(indexer(source));
    await running.reach(source.final);
    // Above the final head the indexer waits instead of skipping.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await running.stop()).toBeUndefined();
    const dump = await dumpTables(db);
    expect(dump.machines).toEqual(
      reference.machines?.map((row) => ({
        ...(row as Raw),
        updated_height: expect.any(String),
      })),
    );
    const cursor = await db.db
      .selectFrom("indexer_cursor")
      .select("height")
      .executeTakeFirstOrThrow();
    expect(Number(cursor.height)).toBe(source.final);
    expect(source.requests.filter((h) => h > source.final).length).toBeGreaterThan(0);
  });
});

describe("flows with keysets and without", () => {
  test("a machine's keyset and its attestation's keyset are recorded; the machine is eligible", async () => {
    await indexAll();
    const machine = await db.db.selectFrom("machines").selectAll().executeTakeFirstOrThrow();
    expect(machine.encryption_key).toMatch(/^x25519:[0-9a-f]{64}$/);
    expect(machine.keyset_sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(machine.models).toEqual([
      { name: "llama-3.1-8b-instruct", weights_sha256: expect.stringMatching(/^[0-9a-f]{64}$/) },
    ]);
    const attestation = await db.db
      .selectFrom("attestations")
      .selectAll()
      .executeTakeFirstOrThrow();
    expect(attestation.keyset_sha256).toBe(machine.keyset_sha256);
    expect(machine.eligible_until).toBe(attestation.expires_at);
  });

  test("a flow the version 1 registry logged applies; its machine has no keyset and is not eligible", async () => {
    const v1 = loadFlow("registry-flow-v1.json");
    const v1Messages = v1.blocks.filter((m): m is Raw => m !== null);
    const source = new MemorySource(v1Messages);
    const running = runInBackground(
      new Indexer({
        pool: db.pool,
        source,
        contracts: { registry: v1.registry, escrow: null, governance: null },
        network: "localnet",
        startHeight: heightOf(v1Messages[0] as Raw),
        log: silentLogger,
        tipPollMs: 5,
      }),
    );
    await running.reach(source.final);
    await running.stop();
    const events = await db.db.selectFrom("events").select(["event", "status"]).execute();
    expect(events.map((e) => e.event)).toContain("challenge_issued");
    expect(events.every((e) => e.status === "applied")).toBe(true);
    const machine = await db.db.selectFrom("machines").selectAll().executeTakeFirstOrThrow();
    expect(machine).toMatchObject({
      encryption_key: null,
      models: [],
      keyset_sha256: null,
      verdict_outcome: "verified",
      eligible_until: null,
    });
    const attestation = await db.db
      .selectFrom("attestations")
      .selectAll()
      .executeTakeFirstOrThrow();
    expect(attestation.keyset_sha256).toBeNull();
  });
});

describe("stopping at any moment loses and duplicates nothing", () => {
  test("a crash inside every block with events, then a restart each time", async () => {
    const heights = (
      await sql<{ block_height: string }>`SELECT DISTINCT block_height FROM events`.execute(db.db)
    ).rows;
    expect(heights).toEqual([]); // truncated after the reference run
    const withEvents = (reference.events as { block_height: string }[]).map((e) =>
      Number(e.block_height),
    );
    const pending = new Set(withEvents);
    expect(pending.size).toBeGreaterThanOrEqual(7);
    let restarts = 0;
    while (restarts < 20) {
      const controller = new AbortController();
      const crashing = indexer(new MemorySource(messages), {
        batchBlocks: 1,
        beforeCommit: (batch) => {
          const height = batch.find((h) => pending.has(h));
          if (height !== undefined) {
            pending.delete(height);
            // Dies after writing the block's rows, before the commit.
            controller.abort();
            throw new Error(`simulated crash inside block ${height}`);
          }
        },
      });
      const crashed = await runUntil(crashing, controller, last);
      restarts++;
      if (!crashed) break;
    }
    expect(pending.size).toBe(0);
    expect(restarts).toBe(withEvents.length + 1);
    expect(await dumpTables(db)).toEqual(reference);
  });

  test("stops between blocks at random points of a batched catch-up", async () => {
    for (let i = 0; i < 6; i++) {
      const controller = new AbortController();
      let commits = 0;
      const stopAfter = 1 + Math.floor(Math.random() * 4);
      const run = indexer(new MemorySource(messages), {
        batchBlocks: 1 + Math.floor(Math.random() * 8),
        beforeCommit: () => {
          commits++;
          if (commits === stopAfter) setImmediate(() => controller.abort());
        },
      });
      await runUntil(run, controller, last);
    }
    await indexAll();
    expect(await dumpTables(db)).toEqual(reference);
  });
});

describe("re-indexing from a height", () => {
  test.each([
    ["the middle", 0.5],
    ["the first block", 0],
    ["past the last block", 1],
  ])("from %s rebuilds the same tables", async (_name, fraction) => {
    await indexAll();
    const height = first + Math.round((last + 1 - first) * fraction);
    const result = await reindexFrom(db.pool, height, contracts);
    expect(result.cursorHeight).toBe(height - 1);
    const eventsBelow = (reference.events as { block_height: string }[]).filter(
      (e) => Number(e.block_height) < height,
    ).length;
    expect(result.replayedEvents).toBe(eventsBelow);
    expect(result.deletedEvents).toBe((reference.events?.length ?? 0) - eventsBelow);
    await indexAll();
    expect(await dumpTables(db)).toEqual(reference);
  });

  test("refuses a height beyond what is indexed", async () => {
    await indexAll(new MemorySource(messages.slice(0, 5)));
    await expect(reindexFrom(db.pool, last, contracts)).rejects.toThrow(
      `cannot re-index from ${last}: the database is only indexed up to ${first + 4}`,
    );
  });
});

describe("failures around the indexer", () => {
  test("a database outage during a run is retried until the database is back", async () => {
    const source = new MemorySource(messages, first + 10);
    const run = indexer(source);
    const running = runInBackground(run);
    await running.reach(first + 10);
    // Refuse new connections and cut the open ones; the indexer's writes fail meanwhile.
    await asAdmin(async (admin) => {
      await sql.raw(`ALTER DATABASE ${db.name} ALLOW_CONNECTIONS false`).execute(admin.db);
      await sql`SELECT pg_terminate_backend(pid) FROM pg_stat_activity
        WHERE datname = ${db.name}`.execute(admin.db);
    });
    source.final = last;
    const deadline = Date.now() + 10_000;
    while (run.status.lastError === null && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(run.status.lastError).toMatch(/^database: /);
    expect(run.status.height).toBeLessThan(last);
    await asAdmin((admin) =>
      sql.raw(`ALTER DATABASE ${db.name} ALLOW_CONNECTIONS true`).execute(admin.db),
    );
    await running.reach(last);
    await running.stop();
    expect(await dumpTables(db)).toEqual(reference);
  });

  test("a source serving another chain stops the indexer and writes nothing", async () => {
    await indexAll(new MemorySource(messages.slice(0, 10)));
    const forked = messages.slice(10).map((m) => copy(m));
    (forked[0] as { block: { header: { prev_hash: string } } }).block.header.prev_hash =
      "11111111111111111111111111111111";
    const before = await dumpTables(db);
    const run = indexer(new MemorySource([...messages.slice(0, 10), ...forked]));
    await expect(run.run(new AbortController().signal)).rejects.toThrow(ChainMismatchError);
    expect(await dumpTables(db)).toEqual(before);
    expect(run.status.lastError).toMatch(/another chain/);
  });

  test("a database indexed under other settings is refused", async () => {
    await indexAll(new MemorySource(messages.slice(0, 3)));
    const other = indexer(new MemorySource(messages), {
      contracts: { ...contracts, registry: "other.near" },
    });
    await expect(other.prepare()).rejects.toThrow(
      `the database indexed registry ${flow.registry}, not other.near`,
    );
    await expect(
      indexer(new MemorySource(messages), { network: "testnet" }).prepare(),
    ).rejects.toThrow("the database indexed network localnet, not testnet");
  });

  test("without a cursor or a start height it refuses to guess", async () => {
    await expect(
      indexer(new MemorySource(messages), { startHeight: undefined }).prepare(),
    ).rejects.toThrow("--start-height");
  });

  test("an event about a record the index lacks is recorded as invalid, and indexing goes on", async () => {
    const verdictHeight = Number(
      (reference.verdicts as { block_height: string }[])[0]?.block_height,
    );
    const run = indexer(new MemorySource(messages), { startHeight: verdictHeight });
    const running = runInBackground(run);
    await running.reach(last);
    await running.stop();
    const events = await db.db.selectFrom("events").select(["event", "status", "error"]).execute();
    expect(events[0]).toEqual({
      event: "verdict_posted",
      status: "invalid",
      error: `the event names machine ${flow.machineId}, which the index does not have`,
    });
    expect(run.status.problems).toBeGreaterThanOrEqual(1);
    expect(await db.db.selectFrom("verdicts").selectAll().execute()).toEqual([]);
  });
});
