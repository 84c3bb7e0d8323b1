/** Shared by the tests: a generated model in a temporary folder, HTTP calls, SSE parsing. */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type TinyModelInfo, writeTinyModel } from "../src/index.ts";

export async function tempModel(
  seed = 1,
): Promise<{ info: TinyModelInfo; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), "model-server-test-"));
  const info = await writeTinyModel(join(dir, "tiny-llama.gguf"), { seed });
  return { info, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export function postChat(url: string, body: unknown, signal?: AbortSignal): Promise<Response> {
  return fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
    signal,
  });
}

/** The `data:` payloads of a server-sent event stream, `[DONE]` as a string. */
export async function readEvents(response: Response): Promise<unknown[]> {
  const text = await response.text();
  return text
    .split("\n\n")
    .filter((block) => block.trim() !== "")
    .map((block) => {
      if (!block.startsWith("data: ")) throw new Error(`not an SSE data line: ${block}`);
      const data = block.slice("data: ".length);
      return data === "[DONE]" ? data : JSON.parse(data);
    });
}

/** Reads a stream until its first `data:` event, leaving the rest unread. */
export async function firstEvent(response: Response): Promise<unknown> {
  const reader = response.body?.getReader();
  if (reader === undefined) throw new Error("no body");
  let text = "";
  while (!text.includes("\n\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`stream ended before an event: ${text}`);
    text += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  return JSON.parse(text.slice("data: ".length, text.indexOf("\n\n")));
}

/** Byte-level vocabulary: one token per UTF-8 byte. */
export function utf8Length(text: string): number {
  return Buffer.byteLength(text, "utf8");
}

/**
 * The ChatML prompt's length in tokens for the tiny model: BOS, then per message
 * <|im_start|> role\n content <|im_end|> \n, then <|im_start|> assistant\n.
 */
export function chatMlPromptTokens(messages: Array<{ role: string; content: string }>): number {
  const perMessage = messages.reduce(
    (sum, m) => sum + 1 + utf8Length(`${m.role}\n${m.content}`) + 1 + 1,
    0,
  );
  return 1 + perMessage + 1 + utf8Length("assistant\n");
}

export async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
