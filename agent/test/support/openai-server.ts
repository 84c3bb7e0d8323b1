/**
 * A tiny OpenAI-compatible server for unit tests: GET /v1/models and streaming POST
 * /v1/chat/completions that answers with fixed tokens and a usage chunk. Modes make it fail the way
 * real backends do (refuse, break mid-stream, omit usage). It records the request bodies it got.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export type Mode = "ok" | "http500" | "http400" | "break" | "no-usage" | "slow";

export interface TestBackend {
  url: string;
  requests: Record<string, unknown>[];
  mode: Mode;
  tokens: string[];
  models: string[];
  close(): Promise<void>;
}

export async function startTestBackend(options: {
  models: string[];
  tokens?: string[];
}): Promise<TestBackend> {
  const state: TestBackend = {
    url: "",
    requests: [],
    mode: "ok",
    tokens: options.tokens ?? ["The", " answer", " is", " forty", "-two", "."],
    models: options.models,
    close: async () => {},
  };
  const server: Server = createServer(async (req, res) => {
    if (req.method === "GET" && req.url === "/v1/models") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(
        JSON.stringify({
          object: "list",
          data: state.models.map((id) => ({ id, object: "model" })),
        }),
      );
      return;
    }
    if (req.method !== "POST" || req.url !== "/v1/chat/completions") {
      res.writeHead(404).end();
      return;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>;
    state.requests.push(body);
    if (state.mode === "http500" || state.mode === "http400") {
      res.writeHead(state.mode === "http500" ? 500 : 400, { "content-type": "application/json" });
      res.end(
        JSON.stringify({
          error: { message: `echo of the prompt: ${JSON.stringify(body.messages)}` },
        }),
      );
      return;
    }
    res.writeHead(200, { "content-type": "text/event-stream" });
    res.flushHeaders();
    const event = (value: unknown) => res.write(`data: ${JSON.stringify(value)}\n\n`);
    const maxTokens = typeof body.max_tokens === "number" ? body.max_tokens : state.tokens.length;
    const tokens = state.tokens.slice(0, maxTokens);
    for (const [i, token] of tokens.entries()) {
      if (state.mode === "break" && i === 3) {
        // Let the first tokens reach the agent, then drop the connection mid-stream.
        await new Promise((r) => setTimeout(r, 50));
        res.destroy();
        return;
      }
      if (state.mode === "slow") await new Promise((r) => setTimeout(r, 200));
      event({
        id: "chatcmpl-test",
        object: "chat.completion.chunk",
        choices: [{ index: 0, delta: { content: token }, finish_reason: null }],
      });
    }
    event({
      id: "chatcmpl-test",
      object: "chat.completion.chunk",
      choices: [
        {
          index: 0,
          delta: {},
          finish_reason: tokens.length < state.tokens.length ? "length" : "stop",
        },
      ],
    });
    if (state.mode !== "no-usage") {
      event({
        id: "chatcmpl-test",
        object: "chat.completion.chunk",
        choices: [],
        usage: {
          prompt_tokens: 11,
          completion_tokens: tokens.length,
          total_tokens: 11 + tokens.length,
        },
      });
    }
    res.end("data: [DONE]\n\n");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return state;
}
