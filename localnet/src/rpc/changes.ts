/** EXPERIMENTAL_changes (by type) and EXPERIMENTAL_changes_in_block for one block. */
import { fromBase64, parsePublicKey, publicKeyToString, toBase58 } from "../node/encoding.ts";
import type { RpcContext } from "./context.ts";
import { parseError } from "./errors.ts";
import {
  type Params,
  paramsObject,
  parseBlockReference,
  parseField,
  requireString,
  resolveBlock,
} from "./params.ts";

type Change = { type: string; change: Record<string, unknown> };

const TOUCHED: Record<string, string> = {
  account_update: "account_touched",
  account_deletion: "account_touched",
  access_key_update: "access_key_touched",
  access_key_deletion: "access_key_touched",
  data_update: "data_touched",
  data_deletion: "data_touched",
  contract_code_update: "contract_code_touched",
  contract_code_deletion: "contract_code_touched",
};

function accountIds(params: Params): Set<string> {
  const ids = params.account_ids;
  if (!Array.isArray(ids) || ids.some((id) => typeof id !== "string")) {
    throw parseError("Failed parsing args: `account_ids` must be an array of account ids");
  }
  return new Set(ids as string[]);
}

function startsWith(bytes: Uint8Array, prefix: Uint8Array): boolean {
  return prefix.every((b, i) => bytes[i] === b);
}

function filterFor(params: Params): (c: Change) => boolean {
  const changesType = requireString(params, "changes_type");
  const accountOf = (c: Change) => c.change.account_id as string;
  switch (changesType) {
    case "account_changes": {
      const ids = accountIds(params);
      return (c) =>
        (c.type === "account_update" || c.type === "account_deletion") && ids.has(accountOf(c));
    }
    case "all_access_key_changes": {
      const ids = accountIds(params);
      return (c) => c.type.startsWith("access_key_") && ids.has(accountOf(c));
    }
    case "single_access_key_changes": {
      const keys = params.keys;
      if (!Array.isArray(keys))
        throw parseError(
          "Failed parsing args: `keys` must be an array of { account_id, public_key }",
        );
      const wanted = new Set(
        keys.map((k: Params) => {
          const text = requireString(k, "public_key");
          const key = parseField("public_key", () => parsePublicKey(text));
          return `${requireString(k, "account_id")} ${publicKeyToString(key)}`;
        }),
      );
      return (c) =>
        c.type.startsWith("access_key_") &&
        wanted.has(`${accountOf(c)} ${String(c.change.public_key)}`);
    }
    case "contract_code_changes": {
      const ids = accountIds(params);
      return (c) => c.type.startsWith("contract_code_") && ids.has(accountOf(c));
    }
    case "data_changes": {
      const ids = accountIds(params);
      const prefixText = requireString(params, "key_prefix_base64");
      const prefix = parseField("key_prefix_base64", () =>
        fromBase64(prefixText, "key_prefix_base64"),
      );
      return (c) =>
        c.type.startsWith("data_") &&
        ids.has(accountOf(c)) &&
        startsWith(fromBase64(String(c.change.key_base64), "key_base64"), prefix);
    }
    default:
      throw parseError(
        `Failed parsing args: unknown changes_type ${JSON.stringify(changesType)}, expected one of account_changes, single_access_key_changes, all_access_key_changes, contract_code_changes, data_changes`,
      );
  }
}

export function changes(params: unknown, ctx: RpcContext): unknown {
  const named = paramsObject(params, "EXPERIMENTAL_changes");
  const keep = filterFor(named);
  const block = resolveBlock(ctx.node, parseBlockReference(named));
  return {
    block_hash: toBase58(block.hash),
    changes: (block.stateChanges as Change[]).filter(keep),
  };
}

export function changesInBlock(params: unknown, ctx: RpcContext): unknown {
  const block = resolveBlock(
    ctx.node,
    parseBlockReference(paramsObject(params, "EXPERIMENTAL_changes_in_block")),
  );
  const seen = new Set<string>();
  const touched: { type: string; account_id: string }[] = [];
  for (const c of block.stateChanges as Change[]) {
    const type = TOUCHED[c.type];
    const accountId = c.change.account_id as string;
    if (!type || seen.has(`${type} ${accountId}`)) continue;
    seen.add(`${type} ${accountId}`);
    touched.push({ type, account_id: accountId });
  }
  return { block_hash: toBase58(block.hash), changes: touched };
}
