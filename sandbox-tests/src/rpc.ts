/** Raw JSON-RPC calls to the node behind a near-workspaces Worker, for what its client lacks. */
import type { Worker } from "near-workspaces";

export function rpcUrl(worker: Worker): string {
  return (worker.provider as unknown as { connection: { url: string } }).connection.url;
}

export async function rpc<T>(worker: Worker, method: string, params: unknown): Promise<T> {
  const response = await fetch(rpcUrl(worker), {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: "sandbox-tests", method, params }),
  });
  const body = (await response.json()) as { result?: T; error?: unknown };
  if (body.error !== undefined) {
    throw new Error(`${method} failed: ${JSON.stringify(body.error)}`);
  }
  return body.result as T;
}
