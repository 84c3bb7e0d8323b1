/**
 * Starts an embedded PostgreSQL and stops it in its own SIGTERM handler, as the indexer CLI and
 * `npm start` do: the database must still answer when the handler runs. Prints "ready" once
 * started, then "answered" and "stopped" from the handler, and exits 0.
 */
import { sql } from "kysely";
import { openDatabase } from "../../src/db/database.ts";
import { startEmbeddedPostgres } from "../../src/db/embedded.ts";

const [dataDir, port] = process.argv.slice(2);
const server = await startEmbeddedPostgres({ dataDir: dataDir ?? "", port: Number(port) });
const database = openDatabase(server.url(), { max: 1 });
process.once("SIGTERM", async () => {
  // Give a package's own signal hook the time to act first, if it had one.
  await new Promise((resolve) => setTimeout(resolve, 500));
  const row = await sql<{ one: number }>`SELECT 1 AS one`.execute(database.db);
  process.stdout.write(`answered ${row.rows[0]?.one}\n`);
  await database.close();
  await server.stop();
  process.stdout.write("stopped\n");
});
process.stdout.write("ready\n");
// Keeps the process alive until the signal.
const keepAlive = setInterval(() => {}, 1000);
process.once("SIGTERM", () => clearInterval(keepAlive));
