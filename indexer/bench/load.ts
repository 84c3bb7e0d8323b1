/**
 * The load generator of the search bench, in its own process: autocannon (the npm HTTP load tool)
 * with `--connections` keep-alive clients, each cycling through the given paths, for `--seconds`
 * after a 2 s warm-up. Prints one JSON line: requests, requests/s, latency p50/p99 (ms), errors
 * and non-2xx answers.
 * Usage: node bench/load.ts --url http://127.0.0.1:8080 --connections 16 --seconds 10 PATH...
 */
import { parseArgs } from "node:util";
import autocannon from "autocannon";

const { values, positionals } = parseArgs({
  options: {
    url: { type: "string" },
    connections: { type: "string", default: "16" },
    seconds: { type: "string", default: "10" },
  },
  allowPositionals: true,
});
if (values.url === undefined || positionals.length === 0) {
  throw new Error("usage: load.ts --url URL [--connections N] [--seconds N] PATH...");
}
const result = await autocannon({
  url: values.url,
  connections: Number(values.connections),
  duration: Number(values.seconds),
  requests: positionals.map((path) => ({ method: "GET", path })),
  warmup: { connections: Number(values.connections), duration: 2 },
});
process.stdout.write(
  `${JSON.stringify({
    requests: result.requests.total,
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors,
    non2xx: result.non2xx,
    bytesPerRequest:
      result.requests.total > 0 ? result.throughput.total / result.requests.total : 0,
  })}\n`,
);
