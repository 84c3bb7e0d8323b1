/**
 * The inference backend: any OpenAI-compatible server (vLLM, SGLang, llama.cpp's server, Ollama,
 * the embedded model-server). Chat completions are streamed with stream_options.include_usage, so
 * the token counts the receipt signs are the backend's own. Health is GET /v1/models: the backend
 * answers and lists the model. Errors never carry the backend's response bodies, which may echo
 * the prompt.
 */
import type { ChatRequest } from "@gpu-market/protocol";
import { sseData } from "./sse.ts";

/** unavailable: the backend did not take the request (nothing ran). failed: it broke mid-way. */
export type BackendErrorKind = "unavailable" | "failed";

export class BackendError extends Error {
  readonly kind: BackendErrorKind;

  constructor(kind: BackendErrorKind, message: string) {
    super(message);
    this.name = "BackendError";
    this.kind = kind;
  }
}

export type StreamItem =
  | { kind: "delta"; content: string; finishReason: string | null }
  | { kind: "usage"; promptTokens: number; completionTokens: number };

export interface Backend {
  readonly url: string;
  /** The model names the backend serves; throws BackendError("unavailable") when it does not answer. */
  models(signal?: AbortSignal): Promise<string[]>;
  /** Streams one chat completion: deltas in order, then the usage. */
  chat(request: ChatRequest, signal?: AbortSignal): AsyncGenerator<StreamItem>;
}

/** "http://host:port" or ".../v1" to the API base ending in /v1. */
export function apiBase(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`--backend-url: "${url}" is not a URL`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new Error(`--backend-url: "${url}" must be http:// or https://`);
  }
  const base = parsed.href.replace(/\/+$/, "");
  return base.endsWith("/v1") ? base : `${base}/v1`;
}

function tokenCount(value: unknown, field: string): number {
  if (!Number.isSafeInteger(value) || (value as number) < 0) {
    throw new BackendError("failed", `backend: usage.${field} is not a token count`);
  }
  return value as number;
}

export class OpenAiBackend implements Backend {
  readonly url: string;
  readonly #base: string;
  readonly #healthTimeoutMs: number;
  readonly #connectTimeoutMs: number;

  constructor(url: string, options: { healthTimeoutMs?: number; connectTimeoutMs?: number } = {}) {
    this.#base = apiBase(url);
    this.url = this.#base;
    this.#healthTimeoutMs = options.healthTimeoutMs ?? 3000;
    this.#connectTimeoutMs = options.connectTimeoutMs ?? 60_000;
  }

  async models(signal?: AbortSignal): Promise<string[]> {
    const timeout = AbortSignal.timeout(this.#healthTimeoutMs);
    let response: Response;
    try {
      response = await fetch(`${this.#base}/models`, {
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
        headers: { accept: "application/json" },
      });
    } catch (error) {
      throw new BackendError("unavailable", `backend ${this.#base}: ${(error as Error).message}`);
    }
    if (response.status !== 200) {
      await response.body?.cancel();
      throw new BackendError(
        "unavailable",
        `backend ${this.#base}/models: HTTP ${response.status}`,
      );
    }
    const body = (await response.json().catch(() => null)) as { data?: unknown } | null;
    if (body === null || !Array.isArray(body.data)) {
      throw new BackendError("unavailable", `backend ${this.#base}/models: not a model list`);
    }
    return body.data.flatMap((m) =>
      typeof (m as { id?: unknown })?.id === "string" ? [(m as { id: string }).id] : [],
    );
  }

  async *chat(request: ChatRequest, signal?: AbortSignal): AsyncGenerator<StreamItem> {
    // The backend must answer (headers) within the connect timeout; the stream itself may run
    // as long as the caller's signal allows.
    const connect = new AbortController();
    const timer = setTimeout(() => connect.abort(), this.#connectTimeoutMs);
    let response: Response;
    try {
      response = await fetch(`${this.#base}/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "text/event-stream" },
        body: JSON.stringify({
          ...request,
          stream: true,
          stream_options: { include_usage: true },
        }),
        signal: signal ? AbortSignal.any([signal, connect.signal]) : connect.signal,
      });
    } catch (error) {
      throw new BackendError("unavailable", `backend: ${(error as Error).name}`);
    } finally {
      clearTimeout(timer);
    }
    if (response.status !== 200 || response.body === null) {
      await response.body?.cancel();
      // 5xx and 429: the backend could not take it; 4xx: it refused this request.
      const kind = response.status >= 500 || response.status === 429 ? "unavailable" : "failed";
      throw new BackendError(kind, `backend: chat/completions answered HTTP ${response.status}`);
    }
    let usage: StreamItem | null = null;
    try {
      for await (const data of sseData(response.body)) {
        if (data === "[DONE]") break;
        let chunk: { choices?: unknown; usage?: unknown };
        try {
          chunk = JSON.parse(data) as { choices?: unknown; usage?: unknown };
        } catch {
          throw new BackendError("failed", "backend: a stream event is not JSON");
        }
        if (typeof chunk !== "object" || chunk === null) {
          throw new BackendError("failed", "backend: a stream event is not an object");
        }
        if (Array.isArray(chunk.choices)) {
          for (const choice of chunk.choices as {
            delta?: { content?: unknown };
            finish_reason?: unknown;
          }[]) {
            const content = choice?.delta?.content;
            const finish = choice?.finish_reason;
            yield {
              kind: "delta",
              content: typeof content === "string" ? content : "",
              finishReason: typeof finish === "string" ? finish : null,
            };
          }
        }
        if (typeof chunk.usage === "object" && chunk.usage !== null) {
          const u = chunk.usage as { prompt_tokens?: unknown; completion_tokens?: unknown };
          usage = {
            kind: "usage",
            promptTokens: tokenCount(u.prompt_tokens, "prompt_tokens"),
            completionTokens: tokenCount(u.completion_tokens, "completion_tokens"),
          };
        }
      }
    } catch (error) {
      if (error instanceof BackendError) throw error;
      throw new BackendError("failed", `backend: the stream broke (${(error as Error).name})`);
    }
    if (usage === null) {
      throw new BackendError("failed", "backend: the stream ended without usage (include_usage)");
    }
    yield usage;
  }
}
