/** Starts an embedded PostgreSQL and waits forever (a test SIGKILLs this process to orphan it). */
import { startEmbeddedPostgres } from "../../src/db/embedded.ts";

const [dataDir, port] = process.argv.slice(2);
await startEmbeddedPostgres({ dataDir: dataDir ?? "", port: Number(port) });
process.stdout.write("ready\n");
setInterval(() => {}, 1 << 30);
