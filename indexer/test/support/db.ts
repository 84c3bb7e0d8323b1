/** A fresh migrated database per test file, from the template global-setup.ts made. */
import { randomBytes } from "node:crypto";
import { sql } from "kysely";
import { inject } from "vitest";
import { type DatabaseHandle, openDatabase } from "../../src/db/database.ts";
import { DERIVED_TABLES } from "../../src/db/tables.ts";

export interface TestDatabase extends DatabaseHandle {
  url: string;
  name: string;
  /** Closes the pool and drops the database. */
  drop(): Promise<void>;
}

function urlFor(database: string): string {
  const url = new URL(inject("pgAdminUrl"));
  url.pathname = `/${database}`;
  return url.toString();
}

/** Runs `task` on a connection to the server's maintenance database. */
export async function asAdmin<T>(task: (handle: DatabaseHandle) => Promise<T>): Promise<T> {
  const handle = openDatabase(inject("pgAdminUrl"), { max: 1 });
  try {
    return await task(handle);
  } finally {
    await handle.close();
  }
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `t_${randomBytes(6).toString("hex")}`;
  await asAdmin((a) => sql.raw(`CREATE DATABASE ${name} TEMPLATE indexer_template`).execute(a.db));
  const url = urlFor(name);
  const handle = openDatabase(url);
  return {
    ...handle,
    url,
    name,
    drop: async () => {
      await handle.close();
      await asAdmin((a) => sql.raw(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).execute(a.db));
    },
  };
}

/** Empties a test database back to its migrated state (between tests in one file). */
export async function truncateAll(handle: DatabaseHandle): Promise<void> {
  const tables = ["indexer_cursor", "events", ...DERIVED_TABLES].join(", ");
  await sql.raw(`TRUNCATE ${tables} CASCADE`).execute(handle.db);
}
