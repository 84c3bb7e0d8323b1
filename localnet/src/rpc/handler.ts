/** JSON-RPC dispatch: one request body in, one nearcore-shaped response out. */
import {
  block,
  chunk,
  gasPrice,
  genesisConfig,
  health,
  protocolConfig,
  status,
  validators,
} from "./blocks.ts";
import { changes, changesInBlock } from "./changes.ts";
import type { RpcContext } from "./context.ts";
import { internalError, methodNotFound, parseError, RpcError } from "./errors.ts";
import { query } from "./query.ts";
import { fastForward, patchState } from "./sandbox.ts";
import {
  broadcastTxAsync,
  broadcastTxCommit,
  experimentalReceipt,
  experimentalTxStatus,
  sendTx,
  tx,
} from "./transactions.ts";

type Method = (params: unknown, ctx: RpcContext) => unknown;

const METHODS: Record<string, Method> = {
  block,
  broadcast_tx_async: broadcastTxAsync,
  broadcast_tx_commit: broadcastTxCommit,
  chunk,
  gas_price: gasPrice,
  health,
  query,
  send_tx: sendTx,
  status,
  tx,
  validators,
  EXPERIMENTAL_changes: changes,
  EXPERIMENTAL_changes_in_block: changesInBlock,
  EXPERIMENTAL_genesis_config: genesisConfig,
  EXPERIMENTAL_protocol_config: protocolConfig,
  EXPERIMENTAL_receipt: experimentalReceipt,
  EXPERIMENTAL_tx_status: experimentalTxStatus,
  sandbox_fast_forward: fastForward,
  sandbox_patch_state: patchState,
};

export interface RpcResponse {
  jsonrpc: "2.0";
  id: unknown;
  result?: unknown;
  error?: unknown;
}

function errorResponse(id: unknown, error: unknown): RpcResponse {
  const rpcError =
    error instanceof RpcError ? error : internalError((error as Error)?.message ?? String(error));
  return { jsonrpc: "2.0", id, error: rpcError.body };
}

export async function handleRpc(body: string, ctx: RpcContext): Promise<RpcResponse> {
  let request: unknown;
  try {
    request = JSON.parse(body);
  } catch (error) {
    return errorResponse(
      null,
      parseError(`JSON RPC Request format was expected: ${(error as Error).message}`),
    );
  }
  if (typeof request !== "object" || request === null || Array.isArray(request)) {
    return errorResponse(null, parseError("JSON RPC Request format was expected"));
  }
  const { id = null, method, params } = request as Record<string, unknown>;
  if (typeof method !== "string") {
    return errorResponse(
      id,
      parseError("JSON RPC Request format was expected: `method` must be a string"),
    );
  }
  const handler = Object.hasOwn(METHODS, method) ? METHODS[method] : undefined;
  if (!handler) return errorResponse(id, methodNotFound(method));
  try {
    return { jsonrpc: "2.0", id, result: await handler(params, ctx) };
  } catch (error) {
    return errorResponse(id, error);
  }
}
