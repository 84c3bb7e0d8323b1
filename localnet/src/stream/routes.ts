/**
 * neardata's HTTP endpoints over this node's blocks:
 * - GET /v0/block/:height       the final block as a StreamerMessage; `null` for a skipped height;
 *                               a height up to 10 above the final head is awaited; beyond, 404.
 * - GET /v0/block_opt/:height   the same without waiting for finality.
 * - GET /v0/last_block/final    302 to /v0/block/<final height> (and .../optimistic).
 * - GET /v0/first_block         302 to /v0/block/<genesis height>.
 */
import { once } from "node:events";
import type { RpcContext } from "../rpc/context.ts";
import { streamerMessage } from "./streamer-message.ts";

const MAX_WAIT_BLOCKS = 10n;
const MAX_WAIT_MS = 30_000;

export interface HttpAnswer {
  status: number;
  headers?: Record<string, string>;
  /** JSON to send; ignored for redirects. */
  body?: unknown;
}

function redirect(location: string): HttpAnswer {
  return { status: 302, headers: { location }, body: null };
}

function notFound(error: string, type: string): HttpAnswer {
  return { status: 404, body: { error, type } };
}

async function blockAnswer(
  ctx: RpcContext,
  heightText: string,
  optimistic: boolean,
): Promise<HttpAnswer> {
  if (!/^\d{1,16}$/.test(heightText)) return { status: 400, body: "Invalid argument" };
  const height = BigInt(heightText);
  const node = ctx.node;
  if (height < node.chain.genesis.height)
    return notFound("Block height is before the genesis", "BLOCK_HEIGHT_TOO_LOW");
  const available = () => (optimistic ? node.chain.head : node.blockAt("final")).height;
  if (height > available() + MAX_WAIT_BLOCKS) {
    return notFound("The block is too far in the future", "BLOCK_DOES_NOT_EXIST");
  }
  const deadline = Date.now() + MAX_WAIT_MS;
  while (height > available()) {
    const remaining = deadline - Date.now();
    if (remaining <= 0 || node.stopped)
      return notFound("The block is not produced yet", "BLOCK_DOES_NOT_EXIST");
    try {
      await once(node.events, "block", { signal: AbortSignal.timeout(remaining) });
    } catch {
      return notFound("The block is not produced yet", "BLOCK_DOES_NOT_EXIST");
    }
  }
  const block = node.chain.byHeight(height);
  return { status: 200, body: block ? streamerMessage(ctx, block) : null };
}

/** The answer for a GET under /v0/, or null when the path is not one of neardata's. */
export async function streamRoute(ctx: RpcContext, path: string): Promise<HttpAnswer | null> {
  const node = ctx.node;
  if (path === "/v0/last_block/final") return redirect(`/v0/block/${node.blockAt("final").height}`);
  if (path === "/v0/last_block/optimistic")
    return redirect(`/v0/block_opt/${node.chain.head.height}`);
  if (path === "/v0/first_block") return redirect(`/v0/block/${node.chain.genesis.height}`);
  const match = /^\/v0\/(block|block_opt)\/([^/]+)$/.exec(path);
  if (!match) return null;
  return blockAnswer(ctx, match[2] ?? "", match[1] === "block_opt");
}
