/**
 * One embedded PostgreSQL for the test run, with a migrated template database; each test file
 * creates its own database from the template (CREATE DATABASE ... TEMPLATE, tens of ms).
 */
import { rmSync } from "node:fs";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import type { TestProject } from "vitest/node";
import { openDatabase } from "../../src/db/database.ts";
import { startEmbeddedPostgres } from "../../src/db/embedded.ts";
import { migrateToLatest } from "../../src/db/migrate.ts";

export const TEMPLATE = "indexer_template";
// One cluster per test run (runs beside each other must not share, or stop, each other's server).
const DATA_DIR = fileURLToPath(new URL(`../../.data/test-cluster-${process.pid}`, import.meta.url));

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

declare module "vitest" {
  export interface ProvidedContext {
    pgAdminUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const server = await startEmbeddedPostgres({ dataDir: DATA_DIR, port: await freePort() });
  const admin = openDatabase(server.url(), { max: 1 });
  const { sql } = await import("kysely");
  await sql.raw(`DROP DATABASE IF EXISTS ${TEMPLATE} WITH (FORCE)`).execute(admin.db);
  await sql.raw(`CREATE DATABASE ${TEMPLATE}`).execute(admin.db);
  await admin.close();
  const template = openDatabase(server.url(TEMPLATE), { max: 1 });
  await migrateToLatest(template.db);
  await template.close();
  project.provide("pgAdminUrl", server.url());
  return async () => {
    await server.stop();
    rmSync(DATA_DIR, { recursive: true, force: true });
  };
}
