/**
 * `query`: view_account, view_code, view_state, view_access_key, view_access_key_list and
 * call_function, in the named form and the legacy positional form [path, data].
 */

import type { Block } from "../node/chain.ts";
import {
  fromBase58,
  fromBase64,
  parsePublicKey,
  publicKeyToString,
  toBase58,
  toBase64,
  u64,
} from "../node/encoding.ts";
import { viewCall } from "../node/view-call.ts";
import { accessKeyView } from "../node/views.ts";
import { accountIdError } from "../runtime/account-id.ts";
import type { StateReader } from "../runtime/types.ts";
import { type RpcContext, validatorStakes } from "./context.ts";
import { handlerError, internalError, parseError } from "./errors.ts";
import {
  type BlockReference,
  type Params,
  paramsObject,
  parseBlockReference,
  parseField,
  referenceJson,
  requireString,
  resolveBlock,
} from "./params.ts";

/** Legacy `[path, data]`: "account/ID", "access_key/ID[/KEY]", "call/ID/METHOD", "contract/ID", "code/ID". */
function fromLegacyPath(params: unknown[]): Params {
  const [path, data] = params;
  if (typeof path !== "string")
    throw parseError("Failed parsing args: query path must be a string");
  const parts = path.split("/");
  const [kind, accountId] = parts;
  const bytes =
    typeof data === "string" && data.length > 0
      ? parseField("data", () => fromBase58(data, "data"))
      : new Uint8Array(0);
  const named: Params = { account_id: accountId, finality: "optimistic" };
  switch (kind) {
    case "account":
      return { ...named, request_type: "view_account" };
    case "code":
      return { ...named, request_type: "view_code" };
    case "contract":
      return { ...named, request_type: "view_state", prefix_base64: toBase64(bytes) };
    case "access_key":
      return parts.length > 2
        ? { ...named, request_type: "view_access_key", public_key: parts.slice(2).join("/") }
        : { ...named, request_type: "view_access_key_list" };
    case "call":
      return {
        ...named,
        request_type: "call_function",
        method_name: parts.slice(2).join("/"),
        args_base64: toBase64(bytes),
      };
    default:
      throw parseError(`Failed parsing args: unknown query path ${JSON.stringify(path)}`);
  }
}

interface Target {
  block: Block;
  state: StateReader;
  accountId: string;
  at: { block_height: unknown; block_hash: string };
}

function target(ctx: RpcContext, params: Params, reference: BlockReference): Target {
  const accountId = requireString(params, "account_id");
  const block = resolveBlock(ctx.node, reference, { block_reference: referenceJson(reference) });
  const at = { block_height: u64(block.height), block_hash: toBase58(block.hash) };
  const invalid = accountIdError(accountId);
  if (invalid) {
    throw handlerError(
      "INVALID_ACCOUNT",
      { requested_account_id: accountId, ...at },
      `Account ID ${accountId} is invalid`,
    );
  }
  const state = ctx.node.stateAt(block);
  if (!state) {
    throw handlerError(
      "GARBAGE_COLLECTED_BLOCK",
      at,
      `The data for block #${block.height} is garbage collected on this node, use an archival node to fetch historical data`,
    );
  }
  return { block, state, accountId, at };
}

function unknownAccount(t: Target): never {
  throw handlerError(
    "UNKNOWN_ACCOUNT",
    { requested_account_id: t.accountId, ...t.at },
    `account ${t.accountId} does not exist while viewing`,
  );
}

function noContractCode(t: Target): never {
  throw handlerError(
    "NO_CONTRACT_CODE",
    { contract_account_id: t.accountId, ...t.at },
    `Contract code for contract ID #${t.accountId} has never been observed on the node`,
  );
}

export function query(params: unknown, ctx: RpcContext): unknown {
  const named = Array.isArray(params) ? fromLegacyPath(params) : paramsObject(params, "query");
  const requestType = requireString(named, "request_type");
  const t = target(ctx, named, parseBlockReference(named));
  switch (requestType) {
    case "view_account": {
      const account = t.state.getAccount(t.accountId) ?? unknownAccount(t);
      return {
        amount: account.amount.toString(),
        locked: account.locked.toString(),
        code_hash: toBase58(account.codeHash),
        storage_usage: u64(account.storageUsage),
        storage_paid_at: 0,
        ...t.at,
      };
    }
    case "view_code": {
      const account = t.state.getAccount(t.accountId) ?? unknownAccount(t);
      const code = t.state.getCode(t.accountId) ?? noContractCode(t);
      return { code_base64: toBase64(code), hash: toBase58(account.codeHash), ...t.at };
    }
    case "view_state": {
      if (!t.state.getAccount(t.accountId)) unknownAccount(t);
      const prefixText = named.prefix_base64 ?? "";
      if (typeof prefixText !== "string")
        throw parseError("Failed parsing args: `prefix_base64` must be a string");
      const prefix = parseField("prefix_base64", () => fromBase64(prefixText, "prefix_base64"));
      const values = t.state
        .listData(t.accountId, prefix)
        .map((entry) => ({ key: toBase64(entry.key), value: toBase64(entry.value) }));
      return { values, ...t.at };
    }
    case "view_access_key": {
      const keyText = requireString(named, "public_key");
      const publicKey = parseField("public_key", () => parsePublicKey(keyText));
      if (!t.state.getAccount(t.accountId)) unknownAccount(t);
      const key = t.state.getAccessKey(t.accountId, publicKey);
      if (!key) {
        // nearcore answers a missing key with a result carrying `error` (a backward-compatible form).
        return {
          error: `access key ${publicKeyToString(publicKey)} does not exist while viewing`,
          logs: [],
          ...t.at,
        };
      }
      return { ...accessKeyView(key), ...t.at };
    }
    case "view_access_key_list": {
      if (!t.state.getAccount(t.accountId)) unknownAccount(t);
      const keys = t.state.listAccessKeys(t.accountId).map((entry) => ({
        public_key: publicKeyToString(entry.publicKey),
        access_key: accessKeyView(entry.accessKey),
      }));
      return { keys, ...t.at };
    }
    case "call_function": {
      const methodName = requireString(named, "method_name");
      const argsText = named.args_base64 ?? "";
      if (typeof argsText !== "string")
        throw parseError("Failed parsing args: `args_base64` must be a string");
      const args = parseField("args_base64", () => fromBase64(argsText, "args_base64"));
      const result = viewCall(
        ctx.node.runtime.runFunctionCall,
        ctx.node.config,
        t.state,
        t.block,
        validatorStakes(ctx),
        t.accountId,
        methodName,
        args,
      );
      switch (result.kind) {
        case "noAccount":
          return unknownAccount(t);
        case "noCode":
          return noContractCode(t);
        case "failed":
          // As nearcore: a contract error is a result with `error`, not an RPC error.
          return { error: result.message, logs: [], ...t.at };
        case "ok":
          return { result: [...result.result], logs: result.logs, ...t.at };
      }
      throw internalError("unreachable view call result");
    }
    default:
      throw parseError(
        `Failed parsing args: unknown request_type ${JSON.stringify(requestType)}, expected one of view_account, view_code, view_state, view_access_key, view_access_key_list, call_function`,
      );
  }
}
