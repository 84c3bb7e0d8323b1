/**
 * The generated chain (synthetic-chain.ts) as a NEAR node shows it to the indexer: blocks at
 * neardata's paths (`/v0/block/:h`, `/v0/last_block/final`) and the registry's views over JSON-RPC
 * (`POST /`, `query` / `call_function`), for reconcile. Run as its own process by the bench
 * (`node bench/neardata-server.ts --machines N`), so that serving blocks does not share the
 * indexer's CPU time; it prints one JSON line `{ url, final, events, blocks }` once listening.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { parseArgs } from "node:util";
import { syntheticChain } from "./synthetic-chain.ts";
import { SyntheticRegistry } from "./synthetic-views.ts";

export interface ChainServer {
  url: string;
  final: number;
  events: number;
  server: Server;
}

function rpcAnswer(registry: SyntheticRegistry, body: string): unknown {
  const request = JSON.parse(body) as {
    id: unknown;
    method: string;
    params: { request_type: string; method_name: string; args_base64: string };
  };
  if (request.method !== "query" || request.params.request_type !== "call_function") {
    return { jsonrpc: "2.0", id: request.id, error: { message: "only call_function queries" } };
  }
  const args = JSON.parse(Buffer.from(request.params.args_base64, "base64").toString("utf8"));
  const value = registry.view(request.params.method_name, args);
  return {
    jsonrpc: "2.0",
    id: request.id,
    result: { result: [...Buffer.from(JSON.stringify(value))], logs: [] },
  };
}

export async function startChainServer(options: {
  registry: string;
  providers: number;
  machines: number;
}): Promise<ChainServer> {
  const registry = new SyntheticRegistry();
  const blocks = new Map<number, string>();
  let events = 0;
  let final = 0;
  let lastTimestamp = 0n;
  for (const message of syntheticChain({
    ...options,
    onEvent: (event, _height, timestampNs) => {
      registry.apply(event, timestampNs);
      lastTimestamp = timestampNs;
    },
  })) {
    const header = (message.block as { header: { height: number } }).header;
    const shard = (message.shards as { receipt_execution_outcomes: unknown[] }[])[0];
    events += shard?.receipt_execution_outcomes.length ?? 0;
    blocks.set(header.height, JSON.stringify(message));
    final = header.height;
  }
  registry.finish(lastTimestamp);
  const server = createServer((request, response) => {
    const path = request.url ?? "";
    if (request.method === "POST") {
      let body = "";
      request.on("data", (chunk: Buffer) => {
        body += chunk.toString("utf8");
      });
      request.on("end", () => {
        let answer: unknown;
        try {
          answer = rpcAnswer(registry, body);
        } catch (error) {
          answer = { jsonrpc: "2.0", id: null, error: { message: String(error) } };
        }
        response.writeHead(200, { "content-type": "application/json" });
        response.end(JSON.stringify(answer));
      });
      return;
    }
    if (path === "/v0/last_block/final") {
      response.writeHead(302, { location: `/v0/block/${final}` }).end();
      return;
    }
    const match = /^\/v0\/block\/(\d+)$/.exec(path);
    if (match === null) {
      response.writeHead(404).end();
      return;
    }
    const height = Number(match[1]);
    if (height > final) {
      response
        .writeHead(404, { "content-type": "application/json" })
        .end('{"type":"BLOCK_DOES_NOT_EXIST"}');
      return;
    }
    response
      .writeHead(200, { "content-type": "application/json" })
      .end(blocks.get(height) ?? "null");
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, final, events, server };
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      registry: { type: "string", default: "registry.bench.near" },
      providers: { type: "string", default: "500" },
      machines: { type: "string", default: "100000" },
    },
  });
  const chain = await startChainServer({
    registry: values.registry,
    providers: Number(values.providers),
    machines: Number(values.machines),
  });
  process.stdout.write(
    `${JSON.stringify({ url: chain.url, final: chain.final, events: chain.events })}\n`,
  );
  process.on("SIGTERM", () => chain.server.close(() => process.exit(0)));
}
