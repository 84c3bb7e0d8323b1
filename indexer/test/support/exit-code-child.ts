/** Starts and stops an embedded PostgreSQL, then ends with exit code 3 by letting the loop drain. */
import { startEmbeddedPostgres } from "../../src/db/embedded.ts";

const [dataDir, port] = process.argv.slice(2);
const server = await startEmbeddedPostgres({ dataDir: dataDir ?? "", port: Number(port) });
await server.stop();
process.exitCode = 3;
