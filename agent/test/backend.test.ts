/**
 * The OpenAI-compatible backend client against a tiny in-test server: streamed deltas and the
 * usage chunk (include_usage asked for), health through /v1/models, and each failure kind; no
 * error carries the backend's body (which may echo the prompt).
 */
import { afterEach, describe, expect, it } from "vitest";
import { apiBase, BackendError, OpenAiBackend, type StreamItem } from "../src/backend/openai.ts";
import { sseData } from "../src/backend/sse.ts";
import { startTestBackend, type TestBackend } from "./support/openai-server.ts";

let server: TestBackend;
afterEach(async () => {
  await server?.close();
});

const request = {
  model: "tiny",
  messages: [{ role: "user" as const, content: "secret prompt" }],
  max_tokens: 8,
};

async function collect(backend: OpenAiBackend): Promise<StreamItem[]> {
  const items: StreamItem[] = [];
  for await (const item of backend.chat(request)) items.push(item);
  return items;
}

async function failure(run: () => Promise<unknown>): Promise<BackendError> {
  try {
    await run();
  } catch (error) {
    if (error instanceof BackendError) return error;
    throw error;
  }
  throw new Error("expected a BackendError");
}

describe("OpenAiBackend", () => {
  it("streams the deltas, then the backend's usage; asks for include_usage", async () => {
    server = await startTestBackend({ models: ["tiny"] });
    const backend = new OpenAiBackend(server.url);
    expect(await backend.models()).toEqual(["tiny"]);
    const items = await collect(backend);
    const text = items.map((i) => (i.kind === "delta" ? i.content : "")).join("");
    expect(text).toBe("The answer is forty-two.");
    expect(items.at(-2)).toEqual({ kind: "delta", content: "", finishReason: "stop" });
    expect(items.at(-1)).toEqual({ kind: "usage", promptTokens: 11, completionTokens: 6 });
    expect(server.requests[0]).toEqual({
      ...request,
      stream: true,
      stream_options: { include_usage: true },
    });
  });

  it("the connect timeout covers the answer's headers, not the stream", async () => {
    server = await startTestBackend({ models: ["tiny"] });
    server.mode = "slow";
    const items = await collect(new OpenAiBackend(server.url, { connectTimeoutMs: 150 }));
    expect(items.at(-1)).toMatchObject({ kind: "usage", completionTokens: 6 });
  });

  it("takes the base URL with or without /v1", () => {
    expect(apiBase("http://127.0.0.1:8000")).toBe("http://127.0.0.1:8000/v1");
    expect(apiBase("http://127.0.0.1:8000/v1/")).toBe("http://127.0.0.1:8000/v1");
    expect(() => apiBase("ftp://x")).toThrow("must be http");
  });

  it("down: unavailable for health and for chat", async () => {
    server = await startTestBackend({ models: ["tiny"] });
    const backend = new OpenAiBackend(server.url);
    await server.close();
    expect((await failure(() => backend.models())).kind).toBe("unavailable");
    expect((await failure(() => collect(backend))).kind).toBe("unavailable");
  });

  it("5xx: unavailable; 4xx: failed; broken stream or no usage: failed; no body in any message", async () => {
    server = await startTestBackend({ models: ["tiny"] });
    const backend = new OpenAiBackend(server.url);
    server.mode = "http500";
    const e500 = await failure(() => collect(backend));
    expect(e500).toMatchObject({
      kind: "unavailable",
      message: "backend: chat/completions answered HTTP 500",
    });
    server.mode = "http400";
    expect(await failure(() => collect(backend))).toMatchObject({ kind: "failed" });
    server.mode = "break";
    expect(await failure(() => collect(backend))).toMatchObject({ kind: "failed" });
    server.mode = "no-usage";
    expect(await failure(() => collect(backend))).toMatchObject({
      kind: "failed",
      message: "backend: the stream ended without usage (include_usage)",
    });
    server.models = [];
    expect(await backend.models()).toEqual([]);
  });

  it("server-sent events split anywhere across chunks", async () => {
    const text = 'data: {"a":1}\n\ndata: {"b":\ndata: 2}\r\n\r\n: comment\n\ndata: [DONE]';
    for (let cut = 1; cut < text.length; cut += 3) {
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new TextEncoder().encode(text.slice(0, cut)));
          controller.enqueue(new TextEncoder().encode(text.slice(cut)));
          controller.close();
        },
      });
      const out: string[] = [];
      for await (const data of sseData(body)) out.push(data);
      expect(out).toEqual(['{"a":1}', '{"b":\n2}', "[DONE]"]);
    }
  });
});
