/**
 * The node's HTTP server: JSON-RPC on POST (any path, as nearcore), GET /status and /health, and
 * the neardata block stream under /v0/.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { streamRoute } from "../stream/routes.ts";
import { status } from "./blocks.ts";
import type { RpcContext } from "./context.ts";
import { handleRpc } from "./handler.ts";

/** nearcore's json_payload_max_size. */
const MAX_BODY_BYTES = 10 * 1024 * 1024;

function sendJson(
  res: ServerResponse,
  statusCode: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(statusCode, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
    "access-control-allow-origin": "*",
    ...headers,
  });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<string | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return null;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

async function handle(ctx: RpcContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = new URL(req.url ?? "/", "http://localhost").pathname;
  if (req.method === "OPTIONS") {
    res.writeHead(204, {
      "access-control-allow-origin": "*",
      "access-control-allow-methods": "GET, POST",
      "access-control-allow-headers": "content-type",
    });
    res.end();
    return;
  }
  if (req.method === "POST") {
    const body = await readBody(req);
    if (body === null) {
      sendJson(res, 413, { error: `request body over ${MAX_BODY_BYTES} bytes` });
      return;
    }
    sendJson(res, 200, await handleRpc(body, ctx));
    return;
  }
  if (req.method === "GET") {
    if (path === "/status") return sendJson(res, 200, status(null, ctx));
    if (path === "/health") return sendJson(res, 200, null);
    const answer = await streamRoute(ctx, path);
    if (answer) return sendJson(res, answer.status, answer.body ?? null, answer.headers);
  }
  sendJson(res, 404, { error: `no route for ${req.method} ${path}` });
}

export interface RunningServer {
  server: Server;
  port: number;
  close(): Promise<void>;
}

/** Listens on host:port (port 0 picks a free one). */
export async function startServer(
  ctx: RpcContext,
  host: string,
  port: number,
): Promise<RunningServer> {
  const server = createServer((req, res) => {
    handle(ctx, req, res).catch((error: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: (error as Error).message });
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;
  return {
    server,
    port: bound,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
