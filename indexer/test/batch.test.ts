/**
 * The set-based batch: the rows of a batch in memory (discovery, journal, what a change writes,
 * rows unknown to the real run), the cache of committed rows, and applyBatch on a database for
 * the cases the per-block runs of the other suites do not reach: a record created and deleted in
 * one batch, a delete that cascades in the database, an event whose later item is inconsistent
 * (undone whole while the batch goes on).
 */
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { syntheticChain } from "../bench/synthetic-chain.ts";
import { applyBatch, type BlockEvents, batchCatalog } from "../src/apply/apply-batch.ts";
import { BatchState, NotLoaded, RowCache } from "../src/apply/state.ts";
import type { Catalog } from "../src/db/catalog.ts";
import { inTransaction } from "../src/db/database.ts";
import type { Contracts } from "../src/decode/contracts.ts";
import { type DecodedEvent, decodeBlock, decodeEventJson } from "../src/decode/decode-block.ts";
import { parseStreamerMessage } from "../src/source/streamer-message.ts";
import { createTestDatabase, type TestDatabase, truncateAll } from "./support/db.ts";

describe("the rows of a batch", () => {
  test("discovery reads unknown rows as absent, notes them, and leaves nothing behind", () => {
    const s = new BatchState();
    s.loaded("providers", "alice", { account_id: "alice", region: "eu" });
    s.beginDiscovery();
    expect(s.get("providers", ["alice"])).toMatchObject({ region: "eu" });
    expect(s.get("providers", ["bob"])).toBeNull();
    s.put("machines", ["7"], { id: "7" });
    s.append("verdicts", { machine_id: "7" });
    s.endDiscovery();
    expect(Object.fromEntries([...s.needs].map(([t, k]) => [t, [...k]]))).toEqual({
      providers: ["bob"],
      machines: ["7"],
    });
    // Outside discovery an unknown row is an error naming it; the known one is untouched.
    expect(() => s.get("providers", ["bob"])).toThrow(NotLoaded);
    expect(s.changes("machines")).toEqual([]);
    expect(s.appended.get("verdicts") ?? []).toEqual([]);
    expect(s.changes("providers")).toEqual([]);
  });

  test("a rollback undoes puts, removes and appends exactly; a row removed and put again is new", () => {
    const s = new BatchState();
    s.loaded("balances", "a\u0001NEAR", { account_id: "a", asset: "NEAR", amount: "5" });
    s.loaded("balances", "b\u0001NEAR", null);
    const mark = s.mark();
    s.put("balances", ["a", "NEAR"], { account_id: "a", asset: "NEAR", amount: "1" });
    s.remove("balances", ["a", "NEAR"]);
    s.put("balances", ["b", "NEAR"], { account_id: "b", asset: "NEAR", amount: "4" });
    s.append("job_history", { n: 1 });
    s.rollback(mark);
    expect(s.get("balances", ["a", "NEAR"])).toMatchObject({ amount: "5" });
    expect(s.get("balances", ["b", "NEAR"])).toBeNull();
    expect(s.changes("balances")).toEqual([]);
    expect(s.appended.get("job_history")).toEqual([]);

    s.remove("balances", ["a", "NEAR"]);
    s.put("balances", ["a", "NEAR"], { account_id: "a", asset: "NEAR", amount: "9" });
    expect(s.changes("balances")).toEqual([
      {
        key: "a\u0001NEAR",
        origin: { account_id: "a", asset: "NEAR", amount: "5" },
        current: { account_id: "a", asset: "NEAR", amount: "9" },
        removed: true,
      },
    ]);
    expect(s.remove("balances", ["b", "NEAR"])).toBe(false);
  });

  test("the cache answers for committed rows, forgets the least recently used, and whole tables", () => {
    const cache = new RowCache(3);
    const first = new BatchState();
    for (const id of ["1", "2", "3"]) first.loaded("machines", id, { id });
    first.loaded("verifiers", "v1", { account_id: "v1" });
    first.loadedWhole("verifiers");
    cache.keep(first);
    // Four rows for three places: the oldest went, and the verifiers table is whole no more...
    expect(cache.get("machines", "1")).toBeUndefined();
    expect(cache.isComplete("verifiers")).toBe(true);
    const second = new BatchState(cache);
    expect(second.get("machines", ["3"])).toEqual({ id: "3" });
    expect(second.all("verifiers")).toEqual([{ account_id: "v1" }]);
    expect(() => second.get("machines", ["1"])).toThrow(NotLoaded);
    const third = new BatchState();
    third.loaded("machines", "4", null);
    third.loaded("machines", "5", { id: "5" });
    cache.keep(third);
    // ...once one of its rows is dropped.
    expect(cache.isComplete("verifiers")).toBe(false);
    expect(cache.get("machines", "4")).toBeNull();
    cache.clear();
    expect(cache.get("machines", "5")).toBeUndefined();
  });
});

describe("applyBatch on a database", () => {
  let db: TestDatabase;
  let catalog: Catalog;

  beforeAll(async () => {
    db = await createTestDatabase();
    const client = await db.pool.connect();
    try {
      catalog = await batchCatalog(client);
    } finally {
      client.release();
    }
  });

  afterAll(async () => {
    await db?.drop();
  });

  const apply = (contracts: Contracts, blocks: BlockEvents[]) =>
    inTransaction(db.pool, (client: pg.PoolClient) =>
      applyBatch(client, catalog, contracts, blocks),
    );

  function event(
    role: DecodedEvent["role"],
    contract: string,
    seq: number,
    body: { standard?: string; version?: string; event: string; data: unknown[] },
  ): DecodedEvent {
    return {
      receiptId: `r-${seq}`,
      logIndex: 0,
      shardId: 0,
      seq,
      txHash: null,
      contract,
      role,
      predecessor: contract,
      ...decodeEventJson(
        role,
        JSON.stringify({ standard: "gpumarket", version: "1.0.0", ...body }),
      ),
    };
  }

  test("a machine added, attested and removed in one batch is never written; its verdict stays", async () => {
    await truncateAll(db);
    const registry = "registry.batch.near";
    const contracts = { registry, escrow: null, governance: null };
    const messages = [
      ...syntheticChain({ registry, providers: 1, machines: 2, eventsPerBlock: 50 }),
    ];
    const blocks: BlockEvents[] = messages.map((m) => {
      const block = parseStreamerMessage(m);
      return { ...block, events: decodeBlock(block, contracts) };
    });
    const machine = (blocks[0]?.events ?? []).find((e) => e.event === "machine_added")
      ?.items[0] as { id: string; provider: string; machine_public_key: string };
    const last = blocks[blocks.length - 1] as BlockEvents;
    last.events.push(
      event("registry", registry, last.events.length, {
        event: "machine_removed",
        data: [
          {
            id: machine.id,
            provider: machine.provider,
            machine_public_key: machine.machine_public_key,
          },
        ],
      }),
    );
    const result = await apply(contracts, blocks);
    expect(result.problems).toEqual([]);
    const ids = await db.db.selectFrom("machines").select("id").orderBy("id").execute();
    expect(ids.map((r) => r.id)).toEqual(["1"]);
    const gpus = await db.db.selectFrom("machine_gpus").select("machine_id").execute();
    expect(gpus.map((r) => r.machine_id)).toEqual(["1"]);
    const attested = await db.db.selectFrom("attestations").select("machine_id").execute();
    expect(attested.map((r) => r.machine_id)).not.toContain(machine.id);
    const verdicts = await db.db.selectFrom("verdicts").select("machine_id").execute();
    expect(verdicts.map((r) => r.machine_id)).toContain(machine.id);

    // The other machine, removed in a later batch: the database cascades to its GPUs.
    const other = await db.db.selectFrom("machines").selectAll().executeTakeFirstOrThrow();
    await apply(contracts, [
      {
        height: last.height + 1,
        hash: "next",
        timestampNs: last.timestampNs,
        events: [
          event("registry", registry, 0, {
            event: "machine_removed",
            data: [
              {
                id: other.id,
                provider: other.provider,
                machine_public_key: other.machine_public_key,
              },
            ],
          }),
        ],
      },
    ]);
    expect(await db.db.selectFrom("machines").selectAll().execute()).toEqual([]);
    expect(await db.db.selectFrom("machine_gpus").selectAll().execute()).toEqual([]);
    expect(await db.db.selectFrom("attestations").selectAll().execute()).toEqual([]);
  });

  test("a token event whose later item is inconsistent is undone whole; the batch goes on", async () => {
    await truncateAll(db);
    const gov = "gov.batch.near";
    const contracts = { registry: null, escrow: null, governance: gov };
    const nep141 = (seq: number, name: string, data: unknown[]) =>
      event("governance", gov, seq, { standard: "nep141", version: "1.0.0", event: name, data });
    const result = await apply(contracts, [
      {
        height: 10,
        hash: "h10",
        timestampNs: "1",
        events: [
          nep141(0, "ft_mint", [{ owner_id: "alice", amount: "100" }]),
          nep141(1, "ft_transfer", [
            { old_owner_id: "alice", new_owner_id: "bob", amount: "60" },
            { old_owner_id: "carol", new_owner_id: "dave", amount: "5" },
          ]),
          nep141(2, "ft_transfer", [{ old_owner_id: "alice", new_owner_id: "bob", amount: "30" }]),
        ],
      },
    ]);
    expect(result.applied).toBe(2);
    expect(result.problems.map((p) => [p.event.seq, p.event.status, p.event.error])).toEqual([
      [1, "invalid", "carol moves 5 tokens but holds 0 in the index"],
    ]);
    const holders = await db.db
      .selectFrom("token_holders")
      .select(["account_id", "balance"])
      .orderBy("account_id")
      .execute();
    expect(holders).toEqual([
      { account_id: "alice", balance: "70" },
      { account_id: "bob", balance: "30" },
    ]);
    const events = await db.db
      .selectFrom("events")
      .select(["seq", "status"])
      .orderBy("seq")
      .execute();
    expect(events).toEqual([
      { seq: 0, status: "applied" },
      { seq: 1, status: "invalid" },
      { seq: 2, status: "applied" },
    ]);
  });
});
