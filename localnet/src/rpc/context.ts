/** What every RPC method handler reads: the node and the facts `status` reports. */

import { PROTOCOL_VERSION } from "../config/runtime-config.ts";
import type { Block } from "../node/chain.ts";
import type { KeyPair } from "../node/keys.ts";
import type { LocalNode } from "../node/node.ts";
import { blockHeaderView, chunkHeaderView, type JsonObject } from "../node/views.ts";

export interface RpcContext {
  node: LocalNode;
  validatorKey: KeyPair;
  nodeKey: KeyPair;
  /** host:port the server listens on, as `status` reports it. */
  rpcAddr: string;
  startedAt: number;
  /** How long send_tx/tx wait for the requested status before TIMEOUT_ERROR. */
  txTimeoutMs: number;
}

export const VALIDATOR_ACCOUNT_ID = "test.near";

/** Validator stakes from genesis (one validator: test.near). */
export function validatorStakes(ctx: RpcContext): ReadonlyMap<string, bigint> {
  return ctx.node.validatorStakes;
}

/** BlockView: { author, header, chunks }. */
export function blockView(ctx: RpcContext, block: Block): JsonObject {
  const chain = ctx.node.chain;
  return {
    author: VALIDATOR_ACCOUNT_ID,
    header: blockHeaderView(
      block,
      { lastFinal: chain.ancestor(block, 2), lastDsFinal: chain.ancestor(block, 1) },
      PROTOCOL_VERSION,
    ),
    chunks: [chunkHeaderView(block)],
  };
}
