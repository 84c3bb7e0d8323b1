import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type ModelServer, startModelServer, type TinyModelInfo } from "../src/index.ts";
import {
  chatMlPromptTokens,
  firstEvent,
  postChat,
  readEvents,
  tempModel,
  utf8Length,
  waitFor,
} from "./helpers.ts";

// Real inference: the generated llama model on node-llama-cpp's CPU binary, over HTTP.
const MAX_BODY_BYTES = 64 * 1024;

let info: TinyModelInfo;
let cleanup: () => Promise<void>;
let server: ModelServer;

beforeAll(async () => {
  ({ info, cleanup } = await tempModel());
  server = await startModelServer({
    modelPath: info.path,
    name: "tiny-llama",
    maxQueued: 1,
    maxBodyBytes: MAX_BODY_BYTES,
  });
});

afterAll(async () => {
  await server?.close();
  await cleanup?.();
});

const messages = [
  { role: "system", content: "You are terse." },
  { role: "user", content: "Héllo, wörld 👋" },
];

interface Completion {
  id: string;
  object: string;
  model: string;
  system_fingerprint: string;
  choices: Array<{
    index: number;
    message: { role: string; content: string };
    finish_reason: string;
  }>;
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
}

interface Chunk {
  id: string;
  object: string;
  choices: Array<{ delta: { role?: string; content?: string }; finish_reason: string | null }>;
  usage?: Completion["usage"] | null;
}

async function complete(body: object): Promise<Completion> {
  const response = await postChat(server.url, { model: "tiny-llama", messages, ...body });
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toBe("application/json");
  return (await response.json()) as Completion;
}

describe("models and health", () => {
  test("GET /v1/models lists the model with the sha256 of its GGUF file", async () => {
    const response = await fetch(`${server.url}/v1/models`);
    expect(response.status).toBe(200);
    const fileSha = createHash("sha256")
      .update(await readFile(info.path))
      .digest("hex");
    expect(fileSha).toBe(info.sha256);
    expect(await response.json()).toEqual({
      object: "list",
      data: [
        {
          id: "tiny-llama",
          object: "model",
          created: expect.any(Number),
          owned_by: "gpu-market",
          weights_sha256: fileSha,
          context_length: 2048,
        },
      ],
    });
    expect(server.weightsSha256).toBe(fileSha);
    const one = await fetch(`${server.url}/v1/models/tiny-llama`);
    expect(((await one.json()) as { weights_sha256: string }).weights_sha256).toBe(fileSha);
    const other = await fetch(`${server.url}/v1/models/gpt-4o`);
    expect(other.status).toBe(404);
    expect((await fetch(`${server.url}/v1/models/%E0%A4%A`)).status).toBe(404);
    expect(((await other.json()) as { error: { code: string } }).error.code).toBe(
      "model_not_found",
    );
  });

  test("GET /health reports the model and an idle queue", async () => {
    const response = await fetch(`${server.url}/health`);
    expect(await response.json()).toEqual({
      status: "ok",
      model: "tiny-llama",
      weights_sha256: info.sha256,
      running: 0,
      queued: 0,
      max_queued: 1,
    });
  });
});

describe("chat completions", () => {
  test("non-stream: the assistant's text, finish_reason and the backend's token counts", async () => {
    const body = await complete({ max_tokens: 16, temperature: 0 });
    expect(body.object).toBe("chat.completion");
    expect(body.id).toMatch(/^chatcmpl-[0-9a-f]{32}$/);
    expect(body.model).toBe("tiny-llama");
    expect(body.system_fingerprint).toBe(`fp_${info.sha256.slice(0, 16)}`);
    expect(body.choices).toHaveLength(1);
    const [choice] = body.choices;
    expect(choice?.message.role).toBe("assistant");
    expect(typeof choice?.message.content).toBe("string");
    // The random model never reaches <|im_end|> in 16 tokens at temperature 0: it runs out.
    expect(choice?.finish_reason).toBe("length");
    // One token per UTF-8 byte plus the ChatML control tokens, as the model's tokenizer counts.
    expect(body.usage).toEqual({
      prompt_tokens: chatMlPromptTokens(messages),
      completion_tokens: 16,
      total_tokens: chatMlPromptTokens(messages) + 16,
    });
    // BOS, 3 <|im_start|>, 2 <|im_end|>, and the bytes between them.
    expect(body.usage.prompt_tokens).toBe(
      6 + utf8Length("system\nYou are terse.\nuser\nHéllo, wörld 👋\nassistant\n"),
    );
  });

  test("temperature 0 is deterministic; a seed makes sampling repeatable", async () => {
    const greedy = await complete({ max_tokens: 12, temperature: 0 });
    const again = await complete({ max_completion_tokens: 12, temperature: 0 });
    expect(again.choices[0]?.message.content).toBe(greedy.choices[0]?.message.content);
    const seeded = await complete({ max_tokens: 24, temperature: 1, seed: 42 });
    const reseeded = await complete({ max_tokens: 24, temperature: 1, seed: 42 });
    const otherSeed = await complete({ max_tokens: 24, temperature: 1, seed: 43 });
    expect(reseeded.choices[0]?.message.content).toBe(seeded.choices[0]?.message.content);
    expect(otherSeed.choices[0]?.message.content).not.toBe(seeded.choices[0]?.message.content);
  });

  test("a longer conversation counts every message through the chat template", async () => {
    const conversation = [
      ...messages,
      { role: "assistant", content: "ok" },
      // Text that spells a control token is bytes in a message, never the token itself.
      { role: "user", content: [{ type: "text", text: "<|im_end|>" }] },
    ];
    const response = await postChat(server.url, {
      model: "tiny-llama",
      messages: conversation,
      max_tokens: 1,
      temperature: 0,
    });
    const body = (await response.json()) as Completion;
    expect(body.usage.prompt_tokens).toBe(
      chatMlPromptTokens([
        ...messages,
        { role: "assistant", content: "ok" },
        { role: "user", content: "<|im_end|>" },
      ]),
    );
    expect(body.usage.completion_tokens).toBe(1);
  });

  test("stream with include_usage: role chunk, content deltas, finish chunk, usage chunk, [DONE]", async () => {
    const reference = await complete({ max_tokens: 20, temperature: 0 });
    const response = await postChat(server.url, {
      model: "tiny-llama",
      messages,
      max_tokens: 20,
      temperature: 0,
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/event-stream");
    const events = await readEvents(response);
    expect(events.at(-1)).toBe("[DONE]");
    const chunks = events.slice(0, -1) as Chunk[];
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
    expect(chunks.every((c) => c.object === "chat.completion.chunk")).toBe(true);
    expect(chunks[0]?.choices[0]?.delta).toEqual({ role: "assistant", content: "" });
    const usageChunk = chunks.at(-1);
    expect(usageChunk?.choices).toEqual([]);
    expect(usageChunk?.usage).toEqual(reference.usage);
    const finish = chunks.at(-2);
    expect(finish?.choices[0]).toMatchObject({ delta: {}, finish_reason: "length" });
    const deltas = chunks.slice(1, -2);
    expect(deltas.length).toBeGreaterThan(0);
    expect(deltas.every((c) => c.usage === null && c.choices[0]?.finish_reason === null)).toBe(
      true,
    );
    const streamed = deltas.map((c) => c.choices[0]?.delta.content).join("");
    expect(streamed).toBe(reference.choices[0]?.message.content);
  });

  test("stream without include_usage carries no usage", async () => {
    const response = await postChat(server.url, {
      model: "tiny-llama",
      messages,
      max_tokens: 4,
      temperature: 0,
      stream: true,
    });
    const events = await readEvents(response);
    expect(events.at(-1)).toBe("[DONE]");
    const chunks = events.slice(0, -1) as Chunk[];
    expect(chunks.every((c) => !("usage" in c))).toBe(true);
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe("length");
  });
});

describe("bad requests", () => {
  const good = { model: "tiny-llama", messages: [{ role: "user", content: "hi" }], max_tokens: 1 };
  const cases: Array<[string, unknown, number, string, string]> = [
    ["missing messages", { model: "tiny-llama" }, 400, "messages", "missing_required_parameter"],
    ["messages not an array", { ...good, messages: "hi" }, 400, "messages", "invalid_type"],
    ["empty messages", { ...good, messages: [] }, 400, "messages", "invalid_value"],
    ["a message not an object", { ...good, messages: [42] }, 400, "messages[0]", "invalid_type"],
    [
      "a tool message",
      { ...good, messages: [{ role: "tool", content: "x" }] },
      400,
      "messages[0].role",
      "unsupported_value",
    ],
    [
      "content a number",
      { ...good, messages: [{ role: "user", content: 7 }] },
      400,
      "messages[0].content",
      "invalid_type",
    ],
    [
      "content missing",
      { ...good, messages: [{ role: "user" }] },
      400,
      "messages[0].content",
      "missing_required_parameter",
    ],
    [
      "an image part",
      { ...good, messages: [{ role: "user", content: [{ type: "image_url" }] }] },
      400,
      "messages[0].content[0].type",
      "unsupported_value",
    ],
    [
      "an unknown message field",
      { ...good, messages: [{ role: "user", content: "x", tool_calls: [] }] },
      400,
      "messages[0].tool_calls",
      "unknown_parameter",
    ],
    ["model missing", { messages: good.messages }, 400, "model", "missing_required_parameter"],
    ["model a number", { ...good, model: 3 }, 400, "model", "invalid_type"],
    ["temperature a string", { ...good, temperature: "hot" }, 400, "temperature", "invalid_type"],
    ["temperature above 2", { ...good, temperature: 2.5 }, 400, "temperature", "invalid_value"],
    ["top_p above 1", { ...good, top_p: 1.5 }, 400, "top_p", "invalid_value"],
    ["max_tokens zero", { ...good, max_tokens: 0 }, 400, "max_tokens", "invalid_value"],
    ["max_tokens fractional", { ...good, max_tokens: 1.5 }, 400, "max_tokens", "invalid_type"],
    [
      "max_tokens and max_completion_tokens differ",
      { ...good, max_completion_tokens: 2 },
      400,
      "max_tokens",
      "invalid_value",
    ],
    ["seed negative", { ...good, seed: -1 }, 400, "seed", "invalid_value"],
    ["stream a string", { ...good, stream: "yes" }, 400, "stream", "invalid_type"],
    [
      "stream_options without stream",
      { ...good, stream_options: { include_usage: true } },
      400,
      "stream_options",
      "invalid_value",
    ],
    [
      "include_usage a number",
      { ...good, stream: true, stream_options: { include_usage: 1 } },
      400,
      "stream_options.include_usage",
      "invalid_type",
    ],
    ["n above 1", { ...good, n: 2 }, 400, "n", "invalid_value"],
    ["an unsupported field", { ...good, tools: [] }, 400, "tools", "unknown_parameter"],
    ["a JSON array body", [good], 400, "body", "invalid_type"],
    [
      "more tokens than the context holds",
      { ...good, max_tokens: 2048 },
      400,
      "messages",
      "context_length_exceeded",
    ],
    ["an unknown model", { ...good, model: "gpt-4o" }, 404, "model", "model_not_found"],
  ];

  test.each(cases)("%s", async (_name, body, status, param, code) => {
    const response = await postChat(server.url, body);
    expect(response.status).toBe(status);
    const { error } = (await response.json()) as {
      error: { message: string; type: string; param: string; code: string };
    };
    expect(error.param).toBe(param);
    expect(error.code).toBe(code);
    expect(error.type).toBe(status === 404 ? "not_found_error" : "invalid_request_error");
    expect(error.message.startsWith(param) || status === 404).toBe(true);
  });

  test("a body that is not JSON", async () => {
    const response = await postChat(server.url, "{not json");
    expect(response.status).toBe(400);
    const { error } = (await response.json()) as { error: { code: string; message: string } };
    expect(error.code).toBe("invalid_json");
    expect(error.message).toMatch(/^the request body is not valid JSON/);
  });

  test("a body over the limit gets 413 and the connection is closed", async () => {
    const big = { ...good, messages: [{ role: "user", content: "x".repeat(MAX_BODY_BYTES) }] };
    const response = await postChat(server.url, big);
    expect(response.status).toBe(413);
    expect(response.headers.get("connection")).toBe("close");
    const { error } = (await response.json()) as { error: { code: string; message: string } };
    expect(error.code).toBe("request_too_large");
    expect(error.message).toBe(`the request body is larger than ${MAX_BODY_BYTES} bytes`);
  });

  test("a body over the limit sent without a content-length also gets 413", async () => {
    const piece = new TextEncoder().encode("x".repeat(16 * 1024));
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= MAX_BODY_BYTES * 2) controller.close();
        else controller.enqueue(piece);
        sent += piece.length;
      },
    });
    const response = await fetch(`${server.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
      duplex: "half",
    } as RequestInit);
    expect(response.status).toBe(413);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe(
      "request_too_large",
    );
  });

  test("wrong method and unknown path", async () => {
    const get = await fetch(`${server.url}/v1/chat/completions`);
    expect(get.status).toBe(405);
    expect(get.headers.get("allow")).toBe("POST");
    const missing = await fetch(`${server.url}/v1/completions`, { method: "POST", body: "{}" });
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe("not_found");
  });
});

describe("one request at a time", () => {
  test("a full queue answers 503; a client that hangs up frees the model for the next", async () => {
    const long = new AbortController();
    const running = await postChat(
      server.url,
      { model: "tiny-llama", messages, max_tokens: 1900, temperature: 0, stream: true },
      long.signal,
    );
    expect(running.status).toBe(200);
    await firstEvent(running); // generation has started
    const waiting = postChat(server.url, {
      model: "tiny-llama",
      messages,
      max_tokens: 3,
      temperature: 0,
    });
    const health = async () =>
      (await (await fetch(`${server.url}/health`)).json()) as { running: number; queued: number };
    await waitFor(async () => (await health()).queued === 1, "the second request to queue");
    expect(await health()).toMatchObject({ running: 1, queued: 1 });

    const refused = await postChat(server.url, { model: "tiny-llama", messages, max_tokens: 1 });
    expect(refused.status).toBe(503);
    expect(refused.headers.get("retry-after")).toBe("1");
    const { error } = (await refused.json()) as { error: { code: string; type: string } };
    expect(error).toMatchObject({ code: "queue_full", type: "server_error" });

    long.abort();
    const served = await waiting;
    expect(served.status).toBe(200);
    expect(((await served.json()) as Completion).usage.completion_tokens).toBe(3);
    await waitFor(async () => (await health()).running === 0, "the queue to drain");
  });
});

describe("shutdown", () => {
  test("close() ends the running stream with an error event, refuses the waiting request, frees the port", async () => {
    const own = await startModelServer({ modelPath: info.path, maxQueued: 4 });
    const running = await postChat(own.url, {
      model: own.modelName,
      messages,
      max_tokens: 1900,
      temperature: 0,
      stream: true,
    });
    const reading = readEvents(running);
    const waiting = postChat(own.url, { model: own.modelName, messages, max_tokens: 1 });
    await waitFor(
      async () =>
        ((await (await fetch(`${own.url}/health`)).json()) as { queued: number }).queued === 1,
      "the second request to queue",
    );
    await own.close();
    const events = await reading;
    expect(events.at(-1)).toEqual({
      error: {
        message: "the server is shutting down",
        type: "server_error",
        param: null,
        code: "shutting_down",
      },
    });
    const refused = await waiting;
    expect(refused.status).toBe(503);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe(
      "shutting_down",
    );
    await expect(fetch(`${own.url}/health`)).rejects.toThrow();
  });
});
