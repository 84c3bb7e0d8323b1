/**
 * nearcore's JSON-RPC error envelope (chain/jsonrpc-primitives/src/errors.rs): every failure is an
 * HTTP 200 answer whose `error` carries { name, cause: { name, info }, code, message, data }, so
 * that near-api-js raises its typed errors.
 */

export interface RpcErrorBody {
  name: "REQUEST_VALIDATION_ERROR" | "HANDLER_ERROR" | "INTERNAL_ERROR";
  cause: { name: string; info?: Record<string, unknown> };
  code: number;
  message: string;
  data?: unknown;
}

export class RpcError extends Error {
  readonly body: RpcErrorBody;
  constructor(body: RpcErrorBody) {
    super(
      typeof body.data === "string"
        ? body.data
        : `${body.cause.name}: ${JSON.stringify(body.data)}`,
    );
    this.body = body;
  }
}

export function parseError(message: string): RpcError {
  return new RpcError({
    name: "REQUEST_VALIDATION_ERROR",
    cause: { name: "PARSE_ERROR", info: { error_message: message } },
    code: -32700,
    message: "Parse error",
    data: message,
  });
}

export function methodNotFound(method: string): RpcError {
  return new RpcError({
    name: "REQUEST_VALIDATION_ERROR",
    cause: { name: "METHOD_NOT_FOUND", info: { method_name: method } },
    code: -32601,
    message: "Method not found",
    data: method,
  });
}

/** A handler error: `cause` is the method's error enum ({ name, info }), `data` its message. */
export function handlerError(
  name: string,
  info: Record<string, unknown> | undefined,
  data: unknown,
): RpcError {
  const cause: RpcErrorBody["cause"] = info === undefined ? { name } : { name, info };
  return new RpcError({
    name: "HANDLER_ERROR",
    cause,
    code: -32000,
    message: "Server error",
    data,
  });
}

export function internalError(message: string): RpcError {
  return new RpcError({
    name: "INTERNAL_ERROR",
    cause: { name: "INTERNAL_ERROR", info: { error_message: message } },
    code: -32000,
    message: "Server error",
    data: message,
  });
}

export function invalidTransactionError(view: Record<string, unknown> | string): RpcError {
  return handlerError("INVALID_TRANSACTION", {}, { TxExecutionError: { InvalidTxError: view } });
}

export function timeoutError(): RpcError {
  return handlerError("TIMEOUT_ERROR", undefined, "Timeout");
}
