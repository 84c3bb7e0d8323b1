/**
 * The HTTP query API over an index of the recorded registry flow and of a generated chain (for
 * filters and pagination over many machines): answers, filters, stable pages, 400s for bad
 * queries, 404/405, health and readiness.
 */
import type { Server } from "node:http";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { SYNTHETIC_MODELS, syntheticChain } from "../bench/synthetic-chain.ts";
import { createApi, listen } from "../src/api/server.ts";
import type { Contracts } from "../src/decode/contracts.ts";
import { Indexer } from "../src/indexer.ts";
import { silentLogger } from "../src/log.ts";
import { createTestDatabase, type TestDatabase } from "./support/db.ts";
import { heightOf, loadFlow, MemorySource } from "./support/fixtures.ts";
import { runInBackground } from "./support/run.ts";

type Json = Record<string, unknown>;
interface Page {
  data: Json[];
  next_cursor: string | null;
  as_of: { block_height: number; block_timestamp: string };
}

const flow = loadFlow();
const SYNTHETIC_REGISTRY = "market.test.near";

let flowDb: TestDatabase;
let bigDb: TestDatabase;
const servers: Server[] = [];
let flowUrl: string;
let bigUrl: string;
let flowIndexer: Indexer;

async function index(db: TestDatabase, messages: Json[], contracts: Contracts): Promise<Indexer> {
  const source = new MemorySource(messages);
  const indexer = new Indexer({
    pool: db.pool,
    source,
    contracts,
    network: "localnet",
    startHeight: heightOf(messages[0] as Json),
    log: silentLogger,
  });
  const running = runInBackground(indexer);
  await running.reach(source.final);
  await running.stop();
  return indexer;
}

async function serve(db: TestDatabase, indexer?: Indexer): Promise<string> {
  const server = createApi({
    db: db.db,
    pool: db.pool,
    log: silentLogger,
    health: { maxLagBlocks: 5, status: indexer ? () => indexer.status : undefined },
  });
  servers.push(server);
  return listen(server, "127.0.0.1", 0);
}

async function get(
  base: string,
  path: string,
  init?: RequestInit,
): Promise<{ status: number; body: Json }> {
  const response = await fetch(`${base}${path}`, init);
  return { status: response.status, body: (await response.json()) as Json };
}

async function page(base: string, path: string): Promise<Page> {
  const { status, body } = await get(base, path);
  expect(status, JSON.stringify(body)).toBe(200);
  return body as unknown as Page;
}

beforeAll(async () => {
  flowDb = await createTestDatabase();
  bigDb = await createTestDatabase();
  const messages = flow.blocks.filter((m): m is Json => m !== null);
  flowIndexer = await index(flowDb, messages, {
    registry: flow.registry,
    escrow: null,
    governance: null,
  });
  await index(
    bigDb,
    [...syntheticChain({ registry: SYNTHETIC_REGISTRY, providers: 8, machines: 150 })],
    {
      registry: SYNTHETIC_REGISTRY,
      escrow: null,
      governance: null,
    },
  );
  flowUrl = await serve(flowDb, flowIndexer);
  bigUrl = await serve(bigDb);
});

afterAll(async () => {
  for (const server of servers) server.close();
  await flowDb?.drop();
  await bigDb?.drop();
});

describe("machines", () => {
  test("the recorded machine, eligible as the registry says", async () => {
    const { data, as_of } = await page(flowUrl, "/v1/machines");
    expect(data).toHaveLength(1);
    const machine = data[0] as Json;
    expect(machine).toMatchObject({
      id: flow.machineId,
      provider: flow.provider,
      region: "eu-west-1",
      tee_type: "tdx",
      price_per_unit: "2000000000000000000",
      status: "active",
      attestation_state: "verified",
      eligible: true,
      hardware: {
        gpu_count: 1,
        cpu_cores: 16,
        ram_mib: 131072,
        gpus: [expect.objectContaining({ model: "NVIDIA H100 80GB HBM3", vram_mib: 81559 })],
      },
    });
    expect((machine.attestation as Json).approvers).toEqual([flow.verifier]);
    // The keyset clients encrypt to: the encryption key, the models and the attested hash.
    expect(machine.encryption_key).toMatch(/^x25519:[0-9a-f]{64}$/);
    expect(machine.keyset_sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(machine.models).toEqual([
      { name: "llama-3.1-8b-instruct", weights_sha256: expect.stringMatching(/^[0-9a-f]{64}$/) },
    ]);
    expect((machine.attestation as Json).keyset_sha256).toBe(machine.keyset_sha256);
    expect(as_of.block_height).toBe(flowIndexer.status.height);
  });

  test("a machine's throughput: its delivered jobs' tokens, and completion tokens per second of delivery", async () => {
    const before = (await page(flowUrl, "/v1/machines")).data[0] as Json;
    expect(before.throughput).toEqual({
      jobs_delivered: 0,
      prompt_tokens: "0",
      completion_tokens: "0",
      tokens_per_second: null,
    });
    // Jobs as the escrow would leave them: two delivered with token counts, one delivered
    // without (escrow version 1), one not delivered.
    const job = (id: number, delivered: [bigint, number, number] | null, tokens = true) => ({
      id: String(id),
      client: "client.test.near",
      payer: "client.test.near",
      machine_id: flow.machineId,
      provider: flow.provider,
      machine_public_key: "ed25519:k",
      price_per_unit: "1",
      fee_bps: 0,
      asset: "NEAR",
      max_amount: "1",
      model_hash: "ab",
      input_hash: "cd",
      status: delivered === null ? "accepted" : "delivered",
      created_at: "1",
      accept_deadline: "2",
      deliver_within_ns: "3",
      accepted_at: "1000000000",
      delivered_at: delivered === null ? null : String(1_000_000_000n + delivered[0]),
      prompt_tokens: delivered !== null && tokens ? String(delivered[1]) : null,
      completion_tokens: delivered !== null && tokens ? String(delivered[2]) : null,
      slash_requested: false,
      updated_height: 1,
    });
    const rows = [
      job(9001, [3_000_000_000n, 10, 100]),
      job(9002, [4_000_000_000n, 20, 251]),
      job(9003, [9_000_000_000n, 5, 7], false),
      job(9004, null),
    ];
    await flowDb.db.insertInto("jobs").values(rows).execute();
    try {
      // 351 completion tokens over the 7 s the two jobs with token counts took.
      const expected = {
        jobs_delivered: 3,
        prompt_tokens: "30",
        completion_tokens: "351",
        tokens_per_second: 50.143,
      };
      const listed = (await page(flowUrl, "/v1/machines")).data[0] as Json;
      expect(listed.throughput).toEqual(expected);
      const one = await get(flowUrl, `/v1/machines/${flow.machineId}`);
      expect((one.body.data as Json).throughput).toEqual(expected);
    } finally {
      await flowDb.db
        .deleteFrom("jobs")
        .where("id", "in", ["9001", "9002", "9003", "9004"])
        .execute();
    }
  });

  test("?model= finds the machines serving a model, by name or by weights hash", async () => {
    const [recorded] = (await page(flowUrl, "/v1/machines")).data;
    const weights = ((recorded as Json).models as Json[])[0]?.weights_sha256 as string;
    for (const model of ["llama-3.1-8b-instruct", weights, weights.toUpperCase()]) {
      expect((await page(flowUrl, `/v1/machines?model=${model}`)).data).toHaveLength(1);
    }
    for (const model of ["llama-3.1-70b-instruct", "ab".repeat(32), "LLAMA-3.1-8B-INSTRUCT"]) {
      expect((await page(flowUrl, `/v1/machines?model=${model}`)).data).toHaveLength(0);
    }
    // Over many machines, with paging and other filters: exactly those that list the model.
    const all: Json[] = [];
    for (let cursor: string | null = null, first = true; first || cursor !== null; first = false) {
      const result: Page = await page(
        bigUrl,
        `/v1/machines?limit=100${cursor === null ? "" : `&cursor=${cursor}`}`,
      );
      all.push(...result.data);
      cursor = result.next_cursor;
    }
    for (const model of SYNTHETIC_MODELS) {
      const serving = all.filter((m) => (m.models as Json[]).some((e) => e.name === model.name));
      expect(serving.length).toBeGreaterThan(0);
      expect(serving.length).toBeLessThan(all.length);
      for (const value of [model.name, model.weights_sha256]) {
        const found: Json[] = [];
        for (
          let cursor: string | null = null, first = true;
          first || cursor !== null;
          first = false
        ) {
          const result: Page = await page(
            bigUrl,
            `/v1/machines?model=${value}&limit=40${cursor === null ? "" : `&cursor=${cursor}`}`,
          );
          found.push(...result.data);
          cursor = result.next_cursor;
        }
        expect(found.map((m) => m.id)).toEqual(serving.map((m) => m.id));
      }
      const eligible = await page(
        bigUrl,
        `/v1/machines?model=${model.name}&eligible=true&limit=100`,
      );
      expect(eligible.data.map((m) => m.id)).toEqual(
        serving.filter((m) => m.eligible === true).map((m) => m.id),
      );
    }
  });

  test.each([
    ["gpu_model=h100", 1],
    ["gpu_model=A100", 0],
    ["min_vram_mib=81559", 1],
    ["min_vram_mib=81560", 0],
    ["max_price=2000000000000000000", 1],
    ["max_price=1999999999999999999", 0],
    ["tee_type=tdx", 1],
    ["tee_type=sev-snp", 0],
    ["region=eu-west-1", 1],
    ["region=us-east-1", 0],
    ["eligible=true", 1],
    ["eligible=false", 0],
    [`provider=${flow.provider}`, 1],
    ["status=inactive", 0],
  ])("filter %s finds %i", async (filter, count) => {
    expect((await page(flowUrl, `/v1/machines?${filter}`)).data).toHaveLength(count);
  });

  test("one machine by id, with its verdicts; unknown ids are 404", async () => {
    const { status, body } = await get(flowUrl, `/v1/machines/${flow.machineId}`);
    expect(status).toBe(200);
    const data = body.data as Json;
    expect(data.verdict_history).toEqual([
      expect.objectContaining({ verifier: flow.verifier, approve: true, outcome: "verified" }),
    ]);
    expect((await get(flowUrl, "/v1/machines/424242")).status).toBe(404);
  });

  test("pages through every machine once, in a stable order, by id and by price", async () => {
    for (const sort of ["id", "price"]) {
      const seen: Json[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const query = `sort=${sort}&limit=40${cursor ? `&cursor=${cursor}` : ""}`;
        const result = await page(bigUrl, `/v1/machines?${query}`);
        seen.push(...result.data);
        cursor = result.next_cursor;
        pages++;
      } while (cursor !== null);
      expect(pages).toBe(4);
      expect(new Set(seen.map((m) => m.id)).size).toBe(150);
      const keys = seen.map((m) =>
        sort === "id"
          ? [BigInt(m.id as string)]
          : [BigInt(m.price_per_unit as string), BigInt(m.id as string)],
      );
      const compare = (a: bigint[], b: bigint[]): number => {
        for (let i = 0; i < a.length; i++) {
          const x = a[i] ?? 0n;
          const y = b[i] ?? 0n;
          if (x !== y) return x < y ? -1 : 1;
        }
        return 0;
      };
      const sorted = [...keys].sort(compare);
      expect(keys).toEqual(sorted);
    }
  });

  test("filters combine, and agree with the machines' own fields", async () => {
    const all = (await page(bigUrl, "/v1/machines?limit=100")).data.concat(
      (
        await page(
          bigUrl,
          `/v1/machines?limit=100&cursor=${(await page(bigUrl, "/v1/machines?limit=100")).next_cursor}`,
        )
      ).data,
    );
    expect(all).toHaveLength(150);
    const maxPrice = 50n * 10n ** 18n;
    const expected = all.filter(
      (m) =>
        m.eligible === true &&
        m.tee_type === "tdx" &&
        BigInt(m.price_per_unit as string) <= maxPrice &&
        ((m.hardware as Json).gpus as Json[]).some((g) => (g.vram_mib as number) >= 80000),
    );
    expect(expected.length).toBeGreaterThan(0);
    const found = await page(
      bigUrl,
      `/v1/machines?eligible=true&tee_type=tdx&max_price=${maxPrice}&min_vram_mib=80000&limit=100`,
    );
    expect(found.data.map((m) => m.id)).toEqual(expected.map((m) => m.id));
    const ineligible = all.filter((m) => m.eligible === false);
    expect(ineligible.length).toBeGreaterThan(0);
    expect(
      (await page(bigUrl, "/v1/machines?eligible=false&limit=100")).data.map((m) => m.id),
    ).toEqual(ineligible.map((m) => m.id));
  });
});

describe("bad queries are answered 400 with a clear message", () => {
  test.each([
    ["/v1/machines?limit=0", "limit: must be an integer from 1 to 100"],
    ["/v1/machines?limit=abc", "limit: must be an integer from 1 to 100"],
    ["/v1/machines?max_price=-1", "max_price: must be a u128 amount"],
    ["/v1/machines?max_price=1.5", "max_price: must be a u128 amount"],
    [`/v1/machines?max_price=${1n << 128n}`, "max_price: must be a u128 amount"],
    ["/v1/machines?tee_type=sgx", "tee_type: must be one of tdx, sev-snp, none-dev"],
    ["/v1/machines?eligible=yes", "eligible: must be true or false"],
    ["/v1/machines?min_vram_mib=-5", "min_vram_mib: must be an integer"],
    ["/v1/machines?region=EU%20West", "region: must be a region id"],
    ["/v1/machines?provider=Not_An_Account!", "provider: must be a NEAR account id"],
    ["/v1/machines?gpu=h100", "gpu: unknown parameter"],
    [
      "/v1/machines?model=-llama",
      'model: must be a model name or a weights sha256 (64 hex), got "-llama"',
    ],
    ["/v1/machines?model=a%20b", "model: must be a model name or a weights sha256"],
    [`/v1/machines?model=${"a".repeat(65)}`, "model: "],
    ["/v1/machines?limit=1&limit=2", "limit: given more than once"],
    ["/v1/machines?cursor=garbage", "cursor: not a cursor returned by this endpoint"],
    ["/v1/machines?sort=price&cursor=WyIxIl0", "cursor: not a cursor returned by this endpoint"],
    ["/v1/machines/abc", "machine id: must be a u64 decimal integer"],
    ["/v1/providers?status=sleeping", "status: must be one of active, paused, retired, slashed"],
    ["/v1/events?status=lost", "status: must be one of applied, unknown, invalid"],
    ["/v1/stats?x=1", "x: unknown parameter"],
  ])("%s", async (path, message) => {
    const { status, body } = await get(flowUrl, path);
    expect(status).toBe(400);
    expect((body.error as Json).code).toBe("bad_request");
    expect((body.error as Json).message).toContain(message);
  });

  test("unknown paths are 404 and other methods 405", async () => {
    expect((await get(flowUrl, "/v1/nothing")).status).toBe(404);
    expect((await get(flowUrl, "/v1/machines", { method: "POST" })).status).toBe(405);
  });
});

describe("providers, events, stats, health", () => {
  test("providers, one provider with its machines", async () => {
    const list = await page(flowUrl, "/v1/providers");
    expect(list.data).toEqual([
      expect.objectContaining({ account_id: flow.provider, status: "active", machine_count: 1 }),
    ]);
    const { body } = await get(flowUrl, `/v1/providers/${flow.provider}`);
    expect((body.data as Json).machine_ids).toEqual([flow.machineId]);
    expect((await get(flowUrl, "/v1/providers/nobody.near")).status).toBe(404);
    const big = await page(bigUrl, "/v1/providers?region=eu-west-1&limit=1");
    expect(big.data).toHaveLength(1);
    expect(big.next_cursor).not.toBeNull();
    const second = await page(
      bigUrl,
      `/v1/providers?region=eu-west-1&limit=1&cursor=${big.next_cursor}`,
    );
    expect(second.data[0]?.account_id).not.toBe(big.data[0]?.account_id);
  });

  test("events in chain order", async () => {
    const { data } = await page(flowUrl, "/v1/events?limit=100");
    expect(data.map((e) => e.event)).toEqual([
      "registry_initialized",
      "provider_registered",
      "verifier_added",
      "measurement_allowed",
      "challenge_issued",
      "machine_added",
      "verdict_posted",
      "machine_price_updated",
    ]);
    expect((await page(flowUrl, "/v1/events?status=unknown")).data).toEqual([]);
  });

  test("events page by three in the same order, the last page without a cursor", async () => {
    const names: unknown[] = [];
    let path = "/v1/events?limit=3";
    const pageSizes: number[] = [];
    for (;;) {
      const result = await page(flowUrl, path);
      pageSizes.push(result.data.length);
      names.push(...result.data.map((e) => e.event));
      if (result.next_cursor === null) break;
      path = `/v1/events?limit=3&cursor=${result.next_cursor}`;
    }
    expect(pageSizes).toEqual([3, 3, 2]);
    expect(names).toEqual((await page(flowUrl, "/v1/events?limit=100")).data.map((e) => e.event));
  });

  test("stats", async () => {
    const { body } = await get(bigUrl, "/v1/stats");
    const data = body.data as Json;
    expect(data.providers).toEqual({ active: 8 });
    const machines = data.machines as Record<string, number>;
    expect((machines.active ?? 0) + (machines.inactive ?? 0)).toBe(150);
    expect((data.gpus_by_model as Json[]).reduce((n, g) => n + (g.machines as number), 0)).toBe(
      150,
    );
  });

  test("health and readiness report the lag", async () => {
    const health = await get(flowUrl, "/health");
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({
      ready: true,
      database: "ok",
      indexed_height: flowIndexer.status.height,
      lag_blocks: 0,
      events_not_applied: 0,
    });
    expect(typeof health.body.lag_seconds).toBe("number");
    expect((await get(flowUrl, "/ready")).status).toBe(200);
    flowIndexer.status.finalHeight += 100;
    try {
      const ready = await get(flowUrl, "/ready");
      expect(ready.status).toBe(503);
      expect(ready.body.reason).toBe("100 blocks behind the final head (more than 5)");
    } finally {
      flowIndexer.status.finalHeight -= 100;
    }
  });
});
