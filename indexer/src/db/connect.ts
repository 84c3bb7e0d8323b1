/**
 * The database the settings name: DATABASE_URL when given, otherwise the embedded PostgreSQL
 * (started here, stopped by close()) with a `gpu_market` database created on first use.
 */
import { sql } from "kysely";
import type { Logger } from "../log.ts";
import { type DatabaseHandle, openDatabase } from "./database.ts";
import { startEmbeddedPostgres } from "./embedded.ts";

const EMBEDDED_DATABASE = "gpu_market";

export interface ConnectOptions {
  databaseUrl: string | undefined;
  dataDir: string;
  pgPort: number;
  log: Logger;
}

export async function connect(options: ConnectOptions): Promise<DatabaseHandle> {
  const onError = (error: Error) =>
    options.log.warn("database connection lost (the pool reconnects)", { error });
  if (options.databaseUrl !== undefined) {
    return openDatabase(options.databaseUrl, { onError });
  }
  options.log.info("starting embedded PostgreSQL", {
    dataDir: options.dataDir,
    port: options.pgPort,
  });
  const server = await startEmbeddedPostgres({
    dataDir: options.dataDir,
    port: options.pgPort,
    log: (line) => options.log.debug(line),
  });
  const admin = openDatabase(server.url(), { max: 1, onError });
  try {
    const exists = await sql<{
      n: number;
    }>`SELECT 1 AS n FROM pg_database WHERE datname = ${EMBEDDED_DATABASE}`.execute(admin.db);
    if (exists.rows.length === 0) {
      await sql.raw(`CREATE DATABASE ${EMBEDDED_DATABASE}`).execute(admin.db);
    }
  } finally {
    await admin.close();
  }
  const handle = openDatabase(server.url(EMBEDDED_DATABASE), { onError });
  return {
    ...handle,
    close: async () => {
      await handle.close();
      await server.stop();
    },
  };
}
