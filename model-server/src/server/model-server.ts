/**
 * startModelServer: hash the GGUF file, load it, serve the OpenAI-compatible API on node:http.
 * close() refuses new work, stops the running generation and the waiting requests (503), waits
 * for every handler to finish, then frees the model.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { basename } from "node:path";
import { LlamaBackend } from "../llama/backend.ts";
import { DEFAULT_MAX_BODY_BYTES } from "./http-io.ts";
import { SerialQueue } from "./queue.ts";
import { createHandler } from "./routes.ts";

export const DEFAULT_MAX_QUEUED = 8;

export interface ModelServerOptions {
  modelPath: string;
  /** The model id clients send; default the file name without `.gguf`. */
  name?: string;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: any free port (see `url`). */
  port?: number;
  contextSize?: number;
  threads?: number;
  /** Requests that may wait behind the running one before 503; default 8. */
  maxQueued?: number;
  /** Default 1 MiB. */
  maxBodyBytes?: number;
}

export interface ModelServer {
  /** e.g. http://127.0.0.1:41234 (the API is under /v1). */
  url: string;
  modelName: string;
  weightsSha256: string;
  contextSize: number;
  close(): Promise<void>;
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

function listen(server: Server, host: string, port: number): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve(server.address() as AddressInfo);
    });
  });
}

export function defaultModelName(modelPath: string): string {
  return basename(modelPath).replace(/\.gguf$/i, "");
}

export async function startModelServer(options: ModelServerOptions): Promise<ModelServer> {
  const host = options.host ?? "127.0.0.1";
  const modelName = options.name ?? defaultModelName(options.modelPath);
  if (modelName === "") throw new Error("the model name is empty; pass a name");
  const queue = new SerialQueue(options.maxQueued ?? DEFAULT_MAX_QUEUED);
  const info = await stat(options.modelPath);
  if (!info.isFile()) throw new Error(`${options.modelPath} is not a file`);
  const weightsSha256 = await sha256File(options.modelPath);
  const backend = await LlamaBackend.load({
    modelPath: options.modelPath,
    contextSize: options.contextSize,
    threads: options.threads,
  });
  const shutdown = new AbortController();
  const handler = createHandler({
    backend,
    modelName,
    weightsSha256,
    systemFingerprint: `fp_${weightsSha256.slice(0, 16)}`,
    created: Math.floor(Date.now() / 1000),
    queue,
    maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    shutdown: shutdown.signal,
  });
  const inFlight = new Set<Promise<void>>();
  const server = createServer((req, res) => {
    const handling = handler(req, res).finally(() => inFlight.delete(handling));
    inFlight.add(handling);
  });
  let address: AddressInfo;
  try {
    address = await listen(server, host, options.port ?? 0);
  } catch (error) {
    await backend.dispose();
    throw error;
  }
  const urlHost = address.family === "IPv6" ? `[${address.address}]` : address.address;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${urlHost}:${address.port}`,
    modelName,
    weightsSha256,
    contextSize: backend.contextSize,
    close() {
      closing ??= (async () => {
        shutdown.abort(new Error("the server is shutting down"));
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        await Promise.allSettled([...inFlight]);
        server.closeAllConnections();
        await closed;
        await backend.dispose();
      })();
      return closing;
    },
  };
}
