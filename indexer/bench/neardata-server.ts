/** Serves pre-generated StreamerMessages at neardata's paths, from memory (for the bench). */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export async function serveBlocks(
  blocks: Map<number, string>,
  final: number,
): Promise<{ url: string; server: Server }> {
  const server = createServer((request, response) => {
    const path = request.url ?? "";
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
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}
