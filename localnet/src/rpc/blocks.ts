/** block, chunk, gas_price, status, health, validators and the config methods. */
import { PROTOCOL_VERSION } from "../config/runtime-config.ts";
import type { Block } from "../node/chain.ts";
import { parseHash, publicKeyToString, toBase58 } from "../node/encoding.ts";
import { chunkHeaderView, receiptView, transactionView } from "../node/views.ts";
import { blockView, type RpcContext, VALIDATOR_ACCOUNT_ID, validatorStakes } from "./context.ts";
import { handlerError, parseError } from "./errors.ts";
import {
  type BlockReference,
  paramsObject,
  parseBlockId,
  parseBlockReference,
  parseField,
  resolveBlock,
} from "./params.ts";
import { runtimeConfigView } from "./runtime-config-view.ts";

/** Legacy positional form `[block_id]` or the named form. */
function blockReferenceOf(
  params: unknown,
  method: string,
  fallback?: BlockReference,
): BlockReference {
  if (Array.isArray(params)) {
    const [id] = params;
    if (id === undefined || id === null) {
      if (fallback) return fallback;
      throw parseError(`Failed parsing args: ${method} needs a block id`);
    }
    return parseBlockId(id);
  }
  if (params === undefined || params === null) {
    if (fallback) return fallback;
    throw parseError(`Failed parsing args: ${method} needs params`);
  }
  return parseBlockReference(paramsObject(params, method), fallback);
}

export function block(params: unknown, ctx: RpcContext): unknown {
  return blockView(ctx, resolveBlock(ctx.node, blockReferenceOf(params, "block")));
}

export function chunk(params: unknown, ctx: RpcContext): unknown {
  let found: Block | undefined;
  let chunkId: string | undefined;
  if (Array.isArray(params)) {
    chunkId = typeof params[0] === "string" ? params[0] : undefined;
    if (!chunkId) throw parseError("Failed parsing args: chunk expects [chunk_id]");
  } else {
    const named = paramsObject(params, "chunk");
    if (typeof named.chunk_id === "string") {
      chunkId = named.chunk_id;
    } else {
      if (named.block_id === undefined) {
        throw parseError(
          "Failed parsing args: chunk needs `chunk_id` or `block_id` and `shard_id`",
        );
      }
      if (named.shard_id !== 0) {
        throw handlerError(
          "INVALID_SHARD_ID",
          { shard_id: named.shard_id },
          `Shard id ${String(named.shard_id)} does not exist`,
        );
      }
      found = resolveBlock(ctx.node, parseBlockId(named.block_id));
    }
  }
  if (chunkId !== undefined) {
    const id = chunkId;
    const hash = parseField("chunk_id", () => parseHash(id, "chunk_id"));
    found = ctx.node.chain.byChunkHash(hash);
    if (!found)
      throw handlerError(
        "UNKNOWN_CHUNK",
        { chunk_hash: id },
        `Chunk Missing (unavailable on the node): ChunkHash(${id})`,
      );
  }
  if (!found) throw parseError("Failed parsing args: no chunk named");
  return {
    author: VALIDATOR_ACCOUNT_ID,
    header: chunkHeaderView(found),
    transactions: found.chunk.transactions.map(transactionView),
    receipts: found.chunk.receipts.map(receiptView),
  };
}

export function gasPrice(params: unknown, ctx: RpcContext): unknown {
  const head: BlockReference = { finality: "optimistic" };
  const reference = Array.isArray(params)
    ? blockReferenceOf(params, "gas_price", head)
    : params === null || params === undefined
      ? head
      : (() => {
          const named = paramsObject(params, "gas_price");
          return named.block_id === undefined || named.block_id === null
            ? head
            : parseBlockId(named.block_id);
        })();
  return { gas_price: resolveBlock(ctx.node, reference).gasPrice.toString() };
}

export function status(_params: unknown, ctx: RpcContext): unknown {
  const node = ctx.node;
  const head = node.chain.head;
  const genesis = node.chain.genesis;
  const time = (b: Block) => new Date(Number(b.timestamp / 1_000_000n)).toISOString();
  return {
    version: { version: "2.6.2", build: "localnet", commit: "localnet", rustc_version: "none" },
    chain_id: node.genesis.config.chain_id,
    protocol_version: PROTOCOL_VERSION,
    latest_protocol_version: PROTOCOL_VERSION,
    rpc_addr: ctx.rpcAddr,
    validators: [{ account_id: VALIDATOR_ACCOUNT_ID }],
    sync_info: {
      latest_block_hash: toBase58(head.hash),
      latest_block_height: Number(head.height),
      latest_state_root: toBase58(head.stateRoot),
      latest_block_time: time(head),
      syncing: false,
      earliest_block_hash: toBase58(genesis.hash),
      earliest_block_height: Number(genesis.height),
      earliest_block_time: time(genesis),
      epoch_id: toBase58(head.epochId),
      epoch_start_height: Number(head.epochStartHeight),
    },
    validator_account_id: VALIDATOR_ACCOUNT_ID,
    validator_public_key: publicKeyToString(ctx.validatorKey.publicKey),
    node_public_key: publicKeyToString(ctx.nodeKey.publicKey),
    node_key: null,
    uptime_sec: Math.floor((Date.now() - ctx.startedAt) / 1000),
    genesis_hash: toBase58(genesis.hash),
    detailed_debug_status: null,
  };
}

export function health(): unknown {
  return null;
}

export function validators(params: unknown, ctx: RpcContext): unknown {
  const head: BlockReference = { finality: "optimistic" };
  let block: Block;
  if (Array.isArray(params) || params === null || params === undefined) {
    block = resolveBlock(ctx.node, blockReferenceOf(params ?? [null], "validators", head));
  } else if (params === "latest") {
    block = ctx.node.chain.head;
  } else {
    const named = paramsObject(params, "validators");
    if (typeof named.epoch_id === "string") {
      const epochId = parseField("epoch_id", () => parseHash(named.epoch_id as string, "epoch_id"));
      const match = ctx.node.chain
        .blocks()
        .findLast((b) => Buffer.from(b.epochId).equals(Buffer.from(epochId)));
      if (!match) throw handlerError("UNKNOWN_EPOCH", {}, "Epoch not found");
      block = match;
    } else {
      block = resolveBlock(ctx.node, parseBlockReference(named, head));
    }
  }
  const produced = Number(block.height - block.epochStartHeight) + 1;
  const stakes = [...validatorStakes(ctx)];
  const key = publicKeyToString(ctx.validatorKey.publicKey);
  return {
    current_validators: stakes.map(([accountId, stake]) => ({
      account_id: accountId,
      public_key: key,
      is_slashed: false,
      stake: stake.toString(),
      shards: [0],
      num_produced_blocks: produced,
      num_expected_blocks: produced,
      num_produced_chunks: produced,
      num_expected_chunks: produced,
      num_produced_chunks_per_shard: [produced],
      num_expected_chunks_per_shard: [produced],
      num_produced_endorsements: produced,
      num_expected_endorsements: produced,
      num_produced_endorsements_per_shard: [produced],
      num_expected_endorsements_per_shard: [produced],
    })),
    next_validators: stakes.map(([accountId, stake]) => ({
      account_id: accountId,
      public_key: key,
      stake: stake.toString(),
      shards: [0],
    })),
    current_fishermen: [],
    next_fishermen: [],
    current_proposals: [],
    prev_epoch_kickout: [],
    epoch_start_height: Number(block.epochStartHeight),
    epoch_height: Number(block.epochHeight),
  };
}

export function protocolConfig(params: unknown, ctx: RpcContext): unknown {
  const named =
    params === null || params === undefined
      ? {}
      : paramsObject(params, "EXPERIMENTAL_protocol_config");
  resolveBlock(ctx.node, parseBlockReference(named, { finality: "optimistic" }));
  const {
    validators: _v,
    total_supply: _t,
    use_production_config: _u,
    ...config
  } = ctx.node.genesis.config;
  return {
    ...config,
    protocol_version: PROTOCOL_VERSION,
    target_validator_mandates_per_shard: 68,
    shuffle_shard_assignment_for_chunk_producers: false,
    runtime_config: runtimeConfigView(ctx.node.config),
  };
}

export function genesisConfig(_params: unknown, ctx: RpcContext): unknown {
  return ctx.node.genesis.config;
}
