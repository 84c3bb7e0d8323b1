/** A kysely instance over a pg pool. numeric and int8 stay strings (pg's default). */
import { Kysely, PostgresDialect } from "kysely";
import pg from "pg";
import type { Database } from "./schema.ts";

export interface DatabaseHandle {
  db: Kysely<Database>;
  pool: pg.Pool;
  close(): Promise<void>;
}

export function openDatabase(
  url: string,
  options: { max?: number; onError?: (error: Error) => void } = {},
): DatabaseHandle {
  const pool = new pg.Pool({ connectionString: url, max: options.max ?? 10 });
  // An idle client losing its connection (server restart, network) must not crash the process:
  // the pool drops it, and the next query gets a new one.
  pool.on("error", (error) => options.onError?.(error));
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return { db, pool, close: () => db.destroy() };
}

/**
 * Runs `task` in a transaction on one connection of the pool: committed if it resolves, rolled
 * back if it throws. A connection that failed is closed rather than returned to the pool.
 */
export async function inTransaction<T>(
  pool: pg.Pool,
  task: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  // The server closing the connection between statements is reported as an 'error' event; the
  // next statement fails with it, which is where it is handled.
  const ignore = () => {};
  client.on("error", ignore);
  let failed: Error | undefined;
  try {
    await client.query("BEGIN");
    const result = await task(client);
    await client.query("COMMIT");
    return result;
  } catch (error) {
    failed = error instanceof Error ? error : new Error(String(error));
    await client.query("ROLLBACK").catch(() => {});
    throw error;
  } finally {
    client.off("error", ignore);
    client.release(failed);
  }
}
