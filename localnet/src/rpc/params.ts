/** Reading JSON-RPC params: named objects, the legacy positional arrays, and block references. */
import type { Block } from "../node/chain.ts";
import { parseHash, toBase58 } from "../node/encoding.ts";
import type { LocalNode } from "../node/node.ts";
import { handlerError, parseError } from "./errors.ts";

export type Params = Record<string, unknown>;

export function paramsObject(params: unknown, method: string): Params {
  if (typeof params !== "object" || params === null || Array.isArray(params)) {
    throw parseError(`Failed parsing args: ${method} expects an object of named params`);
  }
  return params as Params;
}

export function requireString(params: Params, field: string): string {
  const value = params[field];
  if (typeof value !== "string") {
    throw parseError(`Failed parsing args: missing or non-string field \`${field}\``);
  }
  return value;
}

export function optionalString(params: Params, field: string): string | undefined {
  const value = params[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string")
    throw parseError(`Failed parsing args: field \`${field}\` must be a string`);
  return value;
}

/** Parses a value with `parse`, turning its error into a PARSE_ERROR naming the field. */
export function parseField<T>(field: string, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    throw parseError(`Failed parsing args: invalid \`${field}\`: ${(error as Error).message}`);
  }
}

export type BlockReference =
  | { finality: "optimistic" | "near-final" | "final" }
  | { height: bigint }
  | { hash: Uint8Array }
  | { checkpoint: "genesis" | "earliest_available" };

const FINALITIES = ["optimistic", "near-final", "final"] as const;

export function parseBlockId(value: unknown, field = "block_id"): BlockReference {
  if (typeof value === "number" && Number.isSafeInteger(value) && value >= 0)
    return { height: BigInt(value) };
  if (typeof value === "string") return { hash: parseField(field, () => parseHash(value, field)) };
  throw parseError(
    `Failed parsing args: \`${field}\` must be a block height or a base58 block hash`,
  );
}

/** { finality } | { block_id } | { sync_checkpoint }; `fallback` when none is given. */
export function parseBlockReference(params: Params, fallback?: BlockReference): BlockReference {
  if (params.block_id !== undefined && params.block_id !== null)
    return parseBlockId(params.block_id);
  if (params.finality !== undefined && params.finality !== null) {
    const finality = params.finality;
    if (!FINALITIES.includes(finality as (typeof FINALITIES)[number])) {
      throw parseError(
        `Failed parsing args: unknown finality ${JSON.stringify(finality)}, expected optimistic, near-final or final`,
      );
    }
    return { finality: finality as (typeof FINALITIES)[number] };
  }
  if (params.sync_checkpoint !== undefined) {
    const checkpoint = params.sync_checkpoint;
    if (checkpoint !== "genesis" && checkpoint !== "earliest_available") {
      throw parseError(
        `Failed parsing args: unknown sync_checkpoint ${JSON.stringify(checkpoint)}`,
      );
    }
    return { checkpoint };
  }
  if (fallback) return fallback;
  throw parseError(
    "Failed parsing args: one of `finality`, `block_id` or `sync_checkpoint` is required",
  );
}

export function describeReference(reference: BlockReference): string {
  if ("height" in reference) return `BLOCK HEIGHT: ${reference.height}`;
  if ("hash" in reference) return `BLOCK: ${toBase58(reference.hash)}`;
  return JSON.stringify(reference);
}

/** The block a reference names, or null when this node has none. */
export function findBlock(node: LocalNode, reference: BlockReference): Block | null {
  if ("finality" in reference) return node.blockAt(reference.finality);
  if ("checkpoint" in reference) return node.chain.genesis;
  if ("height" in reference) return node.chain.byHeight(reference.height) ?? null;
  return node.chain.byHash(reference.hash) ?? null;
}

/** The block a reference names; UNKNOWN_BLOCK (nearcore's message and `info`) when absent. */
export function resolveBlock(
  node: LocalNode,
  reference: BlockReference,
  info: Record<string, unknown> = {},
): Block {
  const block = findBlock(node, reference);
  if (!block) {
    throw handlerError(
      "UNKNOWN_BLOCK",
      info,
      `DB Not Found Error: ${describeReference(reference)} \n Cause: Unknown`,
    );
  }
  return block;
}

/** The reference as nearcore echoes it in query errors: { block_id } or { finality }. */
export function referenceJson(reference: BlockReference): Record<string, unknown> {
  if ("height" in reference) return { block_id: Number(reference.height) };
  if ("hash" in reference) return { block_id: toBase58(reference.hash) };
  if ("finality" in reference) return { finality: reference.finality };
  return { sync_checkpoint: reference.checkpoint };
}
