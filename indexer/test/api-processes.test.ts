/**
 * The API in several processes (--api-workers) against one database, and the answer cache
 * (on by default): connections spread over the processes, every process answers the same, answers
 * stay until the indexer's commit notifies, workers stop with their parent (killed too), and the
 * health of a process that does not index reports the lag the indexer stored.
 */
import { type ChildProcess, spawn } from "node:child_process";
import http from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type App, startApp } from "../src/app.ts";
import { parseConfig } from "../src/config.ts";
import { readCursorOn, writeCursor } from "../src/db/cursor.ts";
import { inTransaction } from "../src/db/database.ts";
import { Indexer } from "../src/indexer.ts";
import { silentLogger } from "../src/log.ts";
import { createTestDatabase, type TestDatabase } from "./support/db.ts";
import { heightOf, loadFlow, MemorySource } from "./support/fixtures.ts";
import { runInBackground } from "./support/run.ts";

type Json = Record<string, unknown>;
const CLI = fileURLToPath(new URL("../src/cli.ts", import.meta.url));
const flow = loadFlow();
const messages = flow.blocks.filter((m): m is Json => m !== null);

let db: TestDatabase;

/** GET on a fresh connection (so that the kernel picks a process for each request). */
function getFresh(url: string): Promise<{ status: number; body: Json }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false }, (response) => {
        let text = "";
        response.on("data", (chunk: Buffer) => {
          text += chunk.toString("utf8");
        });
        response.on("end", () =>
          resolve({ status: response.statusCode ?? 0, body: JSON.parse(text) }),
        );
      })
      .on("error", reject);
  });
}

function serve(flags: string[]): Promise<App> {
  const { config } = parseConfig(["serve", "--api-port", "0", ...flags], {
    DATABASE_URL: db.url,
  });
  return startApp({ config, log: silentLogger, index: false });
}

beforeAll(async () => {
  db = await createTestDatabase();
  const source = new MemorySource(messages);
  const running = runInBackground(
    new Indexer({
      pool: db.pool,
      source,
      contracts: { registry: flow.registry, escrow: null, governance: null },
      network: "localnet",
      startHeight: heightOf(messages[0] as Json),
      log: silentLogger,
      tipPollMs: 5,
    }),
  );
  await running.reach(source.final);
  await running.stop();
});

afterAll(async () => {
  await db?.drop();
});

describe("the API in several processes", () => {
  test("connections spread over the processes, which answer alike; the lag comes from the database", async () => {
    const app = await serve(["--api-workers", "3", "--max-lag-blocks", "5", "--no-api-cache"]);
    try {
      const processes = new Set<number>();
      const answers = new Set<string>();
      for (let i = 0; i < 60 && processes.size < 3; i++) {
        const health = await getFresh(`${app.apiUrl}/health`);
        expect(health.status).toBe(200);
        processes.add(health.body.process_id as number);
        expect(health.body).toMatchObject({
          ready: true,
          indexed_height: heightOf(messages[messages.length - 1] as Json),
          lag_blocks: 0,
        });
        answers.add(JSON.stringify((await getFresh(`${app.apiUrl}/v1/machines`)).body));
      }
      expect(processes.size).toBe(3);
      expect(answers.size).toBe(1);
    } finally {
      await app.stop();
    }
  });

  test("workers stop with a parent that is killed", async () => {
    const child: ChildProcess = spawn(
      process.execPath,
      [CLI, "serve", "--api-port", "0", "--api-workers", "2", "--log-level", "info"],
      { env: { ...process.env, DATABASE_URL: db.url }, stdio: ["ignore", "ignore", "pipe"] },
    );
    let log = "";
    child.stderr?.on("data", (chunk: Buffer) => {
      log += chunk.toString("utf8");
    });
    const deadline = Date.now() + 60_000;
    let url: string | null = null;
    while (url === null) {
      if (Date.now() > deadline) throw new Error(`the API did not start:\n${log}`);
      url = /query API listening url=(\S+)/.exec(log)?.[1] ?? null;
      await sleep(50);
    }
    const workerPids = new Set<number>();
    for (let i = 0; i < 40 && workerPids.size < 2; i++) {
      workerPids.add((await getFresh(`${url}/health`)).body.process_id as number);
    }
    workerPids.delete(child.pid ?? -1);
    expect(workerPids.size).toBe(1);
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGKILL");
    await exited;
    const [worker] = [...workerPids];
    const stopBy = Date.now() + 15_000;
    for (;;) {
      let alive = true;
      try {
        process.kill(worker as number, 0);
      } catch {
        alive = false;
      }
      if (!alive) break;
      if (Date.now() > stopBy) throw new Error(`worker ${worker} still runs after its parent died`);
      await sleep(50);
    }
  });
});

describe("the answer cache", () => {
  test("keeps an answer until a commit notifies, then answers anew", async () => {
    const app = await serve(["--api-cache"]);
    try {
      const first = await getFresh(`${app.apiUrl}/v1/machines`);
      const price = ((first.body.data as Json[])[0] as Json).price_per_unit;
      // A write the indexer did not make (and did not notify): the cache does not see it.
      await db.db.updateTable("machines").set({ price_per_unit: "7" }).execute();
      try {
        const cached = await getFresh(`${app.apiUrl}/v1/machines`);
        expect(((cached.body.data as Json[])[0] as Json).price_per_unit).toBe(price);
        // A commit of the indexer notifies: the next answer is computed again.
        await inTransaction(db.pool, async (client) => {
          const cursor = await readCursorOn(client);
          if (cursor === null) throw new Error("no cursor");
          await writeCursor(client, cursor);
        });
        const deadline = Date.now() + 5_000;
        for (;;) {
          const fresh = await getFresh(`${app.apiUrl}/v1/machines`);
          if (((fresh.body.data as Json[])[0] as Json).price_per_unit === "7") break;
          if (Date.now() > deadline) throw new Error("the cache kept its answer after a commit");
          await sleep(20);
        }
        // Errors are never kept.
        expect((await getFresh(`${app.apiUrl}/v1/machines?limit=0`)).status).toBe(400);
      } finally {
        await db.db
          .updateTable("machines")
          .set({ price_per_unit: String(price) })
          .execute();
      }
    } finally {
      await app.stop();
    }
  });
});
