/** A minimal NEAR JSON-RPC client for view calls at a given block. */

export class RpcError extends Error {
  override name = "RpcError";
}

export class ViewClient {
  readonly url: string;
  readonly blockId: string | number;
  #id = 0;

  constructor(url: string, blockId: string | number) {
    this.url = url;
    this.blockId = blockId;
  }

  async view<T>(contract: string, method: string, args: Record<string, unknown> = {}): Promise<T> {
    const response = await fetch(this.url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: ++this.#id,
        method: "query",
        params: {
          request_type: "call_function",
          block_id: this.blockId,
          account_id: contract,
          method_name: method,
          args_base64: Buffer.from(JSON.stringify(args)).toString("base64"),
        },
      }),
      signal: AbortSignal.timeout(30_000),
    });
    if (!response.ok) throw new RpcError(`${contract}.${method}: HTTP ${response.status}`);
    const body = (await response.json()) as {
      result?: { result?: number[]; error?: string };
      error?: { cause?: { name?: string }; message?: string; data?: unknown };
    };
    if (body.error !== undefined) {
      throw new RpcError(
        `${contract}.${method} at block ${this.blockId}: ${body.error.cause?.name ?? body.error.message} ${JSON.stringify(body.error.data ?? "")}`,
      );
    }
    if (body.result?.error !== undefined) {
      throw new RpcError(`${contract}.${method}: ${body.result.error}`);
    }
    return JSON.parse(Buffer.from(body.result?.result ?? []).toString("utf8")) as T;
  }
}
