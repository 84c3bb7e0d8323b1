/**
 * The block sources against local servers (only localhost is reachable here): SigV4 on AWS's
 * documented examples; NEAR Lake through an S3 server that checks signatures (real lake objects,
 * a real mainnet block split as the lake stores it, listing pages, skipped heights, heights that
 * appear at the tip, throttling, refused credentials), and the indexer following it to the same
 * tables as from memory; neardata with a real mainnet block, 429 + Retry-After, an API key and a
 * client-side rate limit.
 */
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { syntheticChain } from "../bench/synthetic-chain.ts";
import { ConfigError, parseConfig } from "../src/config.ts";
import { Indexer } from "../src/indexer.ts";
import { silentLogger } from "../src/log.ts";
import { LakeSource, lakeFolder } from "../src/source/lake.ts";
import { NeardataSource, SourceFatalError } from "../src/source/neardata.ts";
import { signRequest } from "../src/source/sigv4.ts";
import { createTestDatabase, type TestDatabase, truncateAll } from "./support/db.ts";
import { dumpTables } from "./support/dump.ts";
import { fixtureText, heightOf, loadMainnetBlock, MemorySource } from "./support/fixtures.ts";
import { runInBackground } from "./support/run.ts";
import { type S3Server, startS3Server } from "./support/s3-server.ts";

type Raw = Record<string, unknown>;

describe("SigV4, on AWS's examples (Authenticating Requests: Using the Authorization Header)", () => {
  const credentials = {
    accessKeyId: "AKIAIOSFODNN7EXAMPLE",
    secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
  };
  const date = new Date("2013-05-24T00:00:00Z");
  const base = "https://examplebucket.s3.amazonaws.com";

  test.each([
    [
      "GET Object (a Range header)",
      `${base}/test.txt`,
      { range: "bytes=0-9" },
      undefined,
      "host;range;x-amz-content-sha256;x-amz-date",
      "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
    ],
    [
      "GET Bucket (List Objects: a query)",
      `${base}/?max-keys=2&prefix=J`,
      {},
      undefined,
      "host;x-amz-content-sha256;x-amz-date",
      "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7",
    ],
    [
      "GET Bucket Lifecycle (a query key without value)",
      `${base}/?lifecycle`,
      {},
      undefined,
      "host;x-amz-content-sha256;x-amz-date",
      "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543",
    ],
    [
      "PUT Object (a $ in the key, a payload)",
      `${base}/test$file.text`,
      { date: "Fri, 24 May 2013 00:00:00 GMT", "x-amz-storage-class": "REDUCED_REDUNDANCY" },
      "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072",
      "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class",
      "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd",
    ],
  ])("%s", (_name, url, headers, payloadSha256, signed, signature) => {
    const method = payloadSha256 === undefined ? "GET" : "PUT";
    const result = signRequest({
      method,
      url: new URL(url),
      headers,
      payloadSha256,
      region: "us-east-1",
      credentials,
      date,
    });
    expect(result.headers.authorization).toBe(
      `AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=${signed},Signature=${signature}`,
    );
    expect(result.headers["x-amz-date"]).toBe("20130524T000000Z");
  });
});

describe("the NEAR Lake source", () => {
  const bucket = "near-lake-data-test";
  const region = "eu-central-1";
  const credentials = { accessKeyId: "AKIDTEST", secretAccessKey: "lake-test-secret" };
  let s3: S3Server;
  let db: TestDatabase;

  const lake = (extra: Partial<ConstructorParameters<typeof LakeSource>[0]> = {}) =>
    new LakeSource({
      bucket,
      region,
      credentials,
      endpoint: s3.endpoint,
      retryBaseMs: 5,
      retryMaxMs: 20,
      ...extra,
    });

  /** Stores a StreamerMessage as the lake does: block.json and one shard_<id>.json per chunk. */
  function store(message: Raw): void {
    const folder = lakeFolder(heightOf(message));
    s3.objects.set(`${folder}/block.json`, JSON.stringify(message.block));
    for (const shard of message.shards as { shard_id: number }[]) {
      s3.objects.set(`${folder}/shard_${shard.shard_id}.json`, JSON.stringify(shard));
    }
  }

  beforeAll(async () => {
    s3 = await startS3Server({ bucket, region, credentials });
    db = await createTestDatabase();
  });

  afterAll(async () => {
    await s3?.close();
    await db?.drop();
  });

  test("reads a block from the lake's own objects (block.json, shard_0.json)", async () => {
    s3.objects.clear();
    s3.objects.set("000000879765/block.json", fixtureText("lake/000000879765-block.json"));
    s3.objects.set("000000879765/shard_0.json", fixtureText("lake/000000879765-shard_0.json"));
    const source = lake();
    source.readFrom(879764);
    expect(await source.finalHeight()).toBe(879765);
    expect(await source.blockAt(879764)).toEqual({ kind: "skipped", height: 879764 });
    const found = await source.blockAt(879765);
    if (found.kind !== "block") throw new Error(`expected a block, got ${found.kind}`);
    expect(found.block.height).toBe(879765);
    expect(found.block.shards.map((s) => s.shardId)).toEqual([0]);
    // The one receipt of that block failed.
    expect(found.block.shards[0]?.outcomes.map((o) => o.succeeded)).toEqual([false]);
    expect(await source.blockAt(879766)).toEqual({ kind: "not-yet", height: 879766 });
    expect(s3.counts.refused).toBe(0);
  });

  test("a real mainnet block stored as the lake stores it (four shards) reads back whole", async () => {
    s3.objects.clear();
    const message = loadMainnetBlock();
    store(message);
    const source = lake();
    source.readFrom(61321189);
    const found = await source.blockAt(61321189);
    if (found.kind !== "block") throw new Error(`expected a block, got ${found.kind}`);
    expect(found.block.hash).toBe("DEK7XjDsduvDwVidshcJWGBGby7XLXozPagCgQDKmeae");
    expect(found.block.shards.map((s) => [s.shardId, s.outcomes.length])).toEqual([
      [0, 6],
      [1, 3],
      [2, 1],
      [3, 8],
    ]);
  });

  test("refused credentials stop the source at once; throttling is waited out", async () => {
    s3.objects.clear();
    store(loadMainnetBlock());
    const wrong = lake({ credentials: { accessKeyId: "AKIDTEST", secretAccessKey: "wrong" } });
    await expect(wrong.finalHeight()).rejects.toThrow(SourceFatalError);
    await expect(wrong.finalHeight()).rejects.toThrow(/SignatureDoesNotMatch/);
    const retries: string[] = [];
    const patient = lake({ onRetry: (what, error) => retries.push(`${what}: ${String(error)}`) });
    patient.readFrom(61321189);
    s3.failNext(2, 503, "SlowDown");
    expect(await patient.finalHeight()).toBe(61321189);
    expect(retries).toHaveLength(2);
    expect(retries[0]).toMatch(/SlowDown/);
  });

  test("the indexer follows the lake (listing pages, skipped heights, blocks appearing at the tip) to the same tables as from memory", async () => {
    s3.objects.clear();
    const registry = "registry.lake.near";
    // One event per block: ~1,400 heights, more than one listing page; every 7th height skipped.
    const messages = [
      ...syntheticChain({ registry, providers: 5, machines: 700, eventsPerBlock: 1 }),
    ].filter((m) => heightOf(m) % 7 !== 0);
    // Each block follows the previous one produced (as a chain that skipped heights does).
    messages.forEach((message, i) => {
      const previous = messages[i - 1];
      if (previous === undefined) return;
      const header = (message.block as { header: Raw }).header;
      const before = (previous.block as { header: Raw }).header;
      header.prev_hash = before.hash;
      header.prev_height = before.height;
    });
    const first = heightOf(messages[0] as Raw);
    const last = heightOf(messages[messages.length - 1] as Raw);
    const tipFrom = messages.length - 20;
    for (const message of messages.slice(0, tipFrom)) store(message);
    const contracts = { registry, escrow: null, governance: null };
    const indexer = (source: LakeSource | MemorySource) =>
      new Indexer({
        pool: db.pool,
        source,
        contracts,
        network: "lake-test",
        startHeight: first,
        log: silentLogger,
        tipPollMs: 10,
      });

    const memory = new MemorySource(messages, last);
    const fromMemory = runInBackground(indexer(memory));
    await fromMemory.reach(last);
    await fromMemory.stop();
    const reference = await dumpTables(db);
    await truncateAll(db);

    const before = { ...s3.counts };
    const source = lake();
    const fromLake = runInBackground(indexer(source));
    await fromLake.reach(heightOf(messages[tipFrom - 1] as Raw), 60_000);
    // New blocks land in the bucket while the indexer waits at the tip.
    for (const message of messages.slice(tipFrom)) store(message);
    await fromLake.reach(last, 60_000);
    await fromLake.stop();
    expect(s3.counts.list - before.list).toBeGreaterThan(2);
    expect(s3.counts.refused - before.refused).toBe(0);
    expect(await dumpTables(db)).toEqual(reference);
  });
});

describe("the neardata source", () => {
  const servers: Server[] = [];

  /** A neardata-like server; `answer` may take over a request (return true). */
  async function serve(
    answer: (
      path: string,
      headers: IncomingHttpHeaders,
    ) => { status: number; body: string; headers?: Record<string, string> },
  ): Promise<string> {
    const server = createServer((request, response) => {
      const a = answer(request.url ?? "", request.headers);
      response
        .writeHead(a.status, { "content-type": "application/json", ...a.headers })
        .end(a.body);
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  afterAll(() => {
    for (const server of servers) server.close();
  });

  const mainnet = JSON.stringify(loadMainnetBlock());
  const final = (path: string) =>
    path === "/v0/last_block/final"
      ? { status: 302, body: "", headers: { location: "/v0/block/61321189" } }
      : null;

  test("a real mainnet block, through the indexer: one unknown event of the configured contract", async () => {
    const url = await serve((path) => final(path) ?? { status: 200, body: mainnet });
    const db = await createTestDatabase();
    try {
      const indexer = new Indexer({
        pool: db.pool,
        source: new NeardataSource({ url }),
        contracts: { registry: "x.paras.near", escrow: null, governance: null },
        network: "mainnet",
        startHeight: 61321189,
        log: silentLogger,
      });
      const running = runInBackground(indexer);
      await running.reach(61321189);
      await running.stop();
      const events = await db.db.selectFrom("events").selectAll().execute();
      expect(events).toEqual([
        expect.objectContaining({
          receipt_id: "AVeR4o6MWKYMhjJV8x6ZNk9U9kQYm1qbiN8bBaQQ4rWG",
          block_height: "61321189",
          block_hash: "DEK7XjDsduvDwVidshcJWGBGby7XLXozPagCgQDKmeae",
          shard_id: 3,
          contract: "x.paras.near",
          event: "nft_mint",
          status: "unknown",
        }),
      ]);
      expect(indexer.status).toMatchObject({ height: 61321189, events: 1, problems: 1 });
    } finally {
      await db.drop();
    }
  });

  test("429 is waited out for as long as Retry-After says", async () => {
    let asked = 0;
    const url = await serve((path) => {
      if (path === "/v0/block/61321189" && asked++ === 0) {
        return { status: 429, body: "{}", headers: { "retry-after": "1" } };
      }
      return final(path) ?? { status: 200, body: mainnet };
    });
    const retries: number[] = [];
    const source = new NeardataSource({
      url,
      retryBaseMs: 5,
      onRetry: (_what, _error, _attempt, delay) => retries.push(delay),
    });
    const started = performance.now();
    const found = await source.blockAt(61321189);
    expect(found.kind).toBe("block");
    expect(retries).toEqual([1000]);
    expect(performance.now() - started).toBeGreaterThanOrEqual(950);
  });

  test("an API key goes as a bearer token; a rate limit spaces the requests", async () => {
    const seen: (string | undefined)[] = [];
    const url = await serve((path, headers) => {
      seen.push(headers.authorization);
      return final(path) ?? { status: 200, body: mainnet };
    });
    const source = new NeardataSource({ url, apiKey: "k-123", requestsPerSecond: 10 });
    const started = performance.now();
    for (let i = 0; i < 15; i++) await source.finalHeight();
    // A burst of 10, then one every 100 ms.
    expect(performance.now() - started).toBeGreaterThanOrEqual(450);
    expect(new Set(seen)).toEqual(new Set(["Bearer k-123"]));
    expect(() => new NeardataSource({ url, apiKey: "has space" })).toThrow(/API key/);
  });
});

describe("choosing a source on the command line", () => {
  const run = (flags: string[], env: NodeJS.ProcessEnv = {}) =>
    parseConfig(["run", "--registry", "registry.gpumarket.testnet", ...flags], env).config.source;
  const aws = { AWS_ACCESS_KEY_ID: "AKID", AWS_SECRET_ACCESS_KEY: "secret" };

  test("neardata by default, the network's URL, an API key from the environment, a rate", () => {
    expect(run(["--network", "testnet"], { NEARDATA_API_KEY: "key-1" })).toEqual({
      kind: "neardata",
      url: "https://testnet.neardata.xyz",
      apiKey: "key-1",
      requestsPerSecond: undefined,
    });
    expect(run(["--network", "mainnet", "--source-rps", "3"])).toMatchObject({
      url: "https://mainnet.neardata.xyz",
      requestsPerSecond: 3,
    });
    expect(() => run(["--source-rps", "0"])).toThrow(ConfigError);
  });

  test("NEAR Lake: the network's bucket in eu-central-1, credentials from the environment", () => {
    expect(run(["--network", "testnet", "--source", "lake"], aws)).toEqual({
      kind: "lake",
      bucket: "near-lake-data-testnet",
      region: "eu-central-1",
      endpoint: undefined,
      credentials: { accessKeyId: "AKID", secretAccessKey: "secret" },
      requestsPerSecond: undefined,
    });
    expect(() => run(["--network", "testnet", "--source", "lake"])).toThrow(/AWS_ACCESS_KEY_ID/);
    expect(() => run(["--source", "lake"], aws)).toThrow(/--lake-bucket/);
    expect(() => run(["--source", "s3"], aws)).toThrow(/--source: must be neardata or lake/);
    expect(
      run(
        [
          "--source",
          "lake",
          "--lake-bucket",
          "my-lake",
          "--lake-endpoint",
          "http://127.0.0.1:9000",
        ],
        aws,
      ),
    ).toMatchObject({ bucket: "my-lake", endpoint: "http://127.0.0.1:9000" });
  });
});
