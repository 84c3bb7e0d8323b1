/** Reading JSON bodies with a size limit, writing JSON and server-sent events. */
import type { IncomingMessage, ServerResponse } from "node:http";
import { ApiError } from "./errors.ts";

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

function tooLarge(maxBytes: number): ApiError {
  // The rest of the body is not read: close the connection instead of reusing it.
  return new ApiError(413, `the request body is larger than ${maxBytes} bytes`, {
    code: "request_too_large",
    headers: { connection: "close" },
  });
}

/** The body parsed as JSON; 413 past `maxBytes`, 400 when it is not JSON. */
export async function readJsonBody(req: IncomingMessage, maxBytes: number): Promise<unknown> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > maxBytes) throw tooLarge(maxBytes);
  // Past the limit the rest is read and dropped (not destroyed), so the 413 still reaches
  // a client that sends without a content-length.
  const body = await new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        chunks.length = 0;
        reject(tooLarge(maxBytes));
      } else {
        chunks.push(chunk);
      }
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
  const text = body.toString("utf8");
  if (text.trim() === "") {
    throw new ApiError(400, "the request body is empty; send a JSON object", {
      code: "invalid_json",
    });
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ApiError(400, `the request body is not valid JSON: ${(error as Error).message}`, {
      code: "invalid_json",
    });
  }
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

export function sendError(res: ServerResponse, error: ApiError): void {
  sendJson(res, error.status, error.body(), error.headers);
}

export function startEventStream(res: ServerResponse): void {
  res.writeHead(200, {
    "content-type": "text/event-stream",
    "cache-control": "no-cache",
    connection: "keep-alive",
  });
}

/** One `data:` event; waits while the client's buffer is full (or until it is gone). */
export async function sendEvent(res: ServerResponse, data: unknown): Promise<void> {
  const line = `data: ${typeof data === "string" ? data : JSON.stringify(data)}\n\n`;
  if (res.write(line) || res.destroyed) return;
  await new Promise<void>((resolve) => {
    const done = () => {
      res.off("drain", done);
      res.off("close", done);
      resolve();
    };
    res.on("drain", done);
    res.on("close", done);
  });
}
