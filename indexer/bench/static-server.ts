/**
 * The floor of the search bench: an HTTP server that answers every request with the same JSON body
 * of `--bytes` bytes (the size of a search answer), from `--processes` processes sharing the port
 * like the API's workers. What node:http and the load generator cost on this machine with no
 * database and no work per request.
 * Usage: node bench/static-server.ts --port P --processes N --bytes B (prints {"url"} when ready)
 */
import cluster from "node:cluster";
import { createServer } from "node:http";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    port: { type: "string" },
    processes: { type: "string", default: "1" },
    bytes: { type: "string", default: "20000" },
  },
});
const port = Number(values.port);
const processes = Number(values.processes);
const body = JSON.stringify({ data: "x".repeat(Math.max(0, Number(values.bytes) - 11)) });

function serve(): Promise<void> {
  const server = createServer((_request, response) => {
    response.writeHead(200, {
      "content-type": "application/json; charset=utf-8",
      "content-length": Buffer.byteLength(body),
    });
    response.end(body);
  });
  return new Promise((resolve) =>
    server.listen({ port, host: "127.0.0.1", reusePort: true, exclusive: true }, resolve),
  );
}

await serve();
if (cluster.isPrimary) {
  for (let i = 1; i < processes; i++) cluster.fork();
  let ready = 1;
  const done = () => {
    if (ready === processes)
      process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${port}` })}\n`);
  };
  cluster.on("message", () => {
    ready++;
    done();
  });
  done();
  process.on("SIGTERM", () => {
    for (const worker of Object.values(cluster.workers ?? {})) worker?.kill("SIGTERM");
    process.exit(0);
  });
} else {
  process.send?.("listening");
  process.on("disconnect", () => process.exit(0));
}
