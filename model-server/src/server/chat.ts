/**
 * POST /v1/chat/completions: validate, measure the prompt with the model's tokenizer, wait for
 * the model, generate; answer as one JSON document or as server-sent chunks. Token counts in
 * `usage` are the backend's own: the prompt as tokenized, every sampled token.
 */
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { FinishReason, LlamaBackend } from "../llama/backend.ts";
import { ApiError } from "./errors.ts";
import { readJsonBody, sendEvent, sendJson, startEventStream } from "./http-io.ts";
import { QueueFullError, type SerialQueue } from "./queue.ts";
import { type ChatCompletionRequest, parseChatCompletionRequest } from "./validation.ts";

export interface ChatState {
  backend: LlamaBackend;
  modelName: string;
  /** Identifies the weights in each response (OpenAI's system_fingerprint). */
  systemFingerprint: string;
  queue: SerialQueue;
  maxBodyBytes: number;
  /** Aborts when the server shuts down. */
  shutdown: AbortSignal;
}

interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

function usage(promptTokens: number, completionTokens: number): Usage {
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
  };
}

export function shuttingDown(): ApiError {
  return new ApiError(503, "the server is shutting down", { code: "shutting_down" });
}

/** How many tokens to generate: what was asked, if the context holds it after the prompt. */
function completionBudget(
  request: ChatCompletionRequest,
  promptTokens: number,
  contextSize: number,
) {
  const room = contextSize - promptTokens;
  if (room < 1 || (request.maxTokens !== undefined && request.maxTokens > room)) {
    throw new ApiError(
      400,
      `messages: this model's context holds ${contextSize} tokens; the messages take ${promptTokens}` +
        (request.maxTokens === undefined ? "" : ` and max_tokens asks for ${request.maxTokens}`) +
        ": shorten the messages or lower max_tokens",
      { param: "messages", code: "context_length_exceeded" },
    );
  }
  return request.maxTokens ?? room;
}

export async function handleChatCompletion(
  state: ChatState,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const body = await readJsonBody(req, state.maxBodyBytes);
  const request = parseChatCompletionRequest(body, state.backend.contextSize);
  if (request.model !== state.modelName) {
    throw new ApiError(
      404,
      `the model "${request.model}" does not exist; this server serves "${state.modelName}"`,
      { type: "not_found_error", param: "model", code: "model_not_found" },
    );
  }
  const prompt = state.backend.promptTokens(request.messages);
  const maxTokens = completionBudget(request, prompt.length, state.backend.contextSize);

  // The client hanging up, or the server shutting down, stops the wait or the generation.
  const client = new AbortController();
  res.on("close", () => {
    if (!res.writableFinished) client.abort(new Error("client closed the connection"));
  });
  const signal = AbortSignal.any([client.signal, state.shutdown]);
  const params = {
    maxTokens,
    temperature: request.temperature,
    topP: request.topP,
    seed: request.seed,
  };
  const id = `chatcmpl-${randomUUID().replaceAll("-", "")}`;
  const created = Math.floor(Date.now() / 1000);
  const head = {
    id,
    created,
    model: state.modelName,
    system_fingerprint: state.systemFingerprint,
  };

  try {
    await state.queue.run(async () => {
      if (!request.stream) {
        let content = "";
        const result = await state.backend.generate(
          prompt,
          params,
          (text) => {
            content += text;
          },
          signal,
        );
        sendJson(res, 200, {
          ...head,
          object: "chat.completion",
          choices: [
            {
              index: 0,
              message: { role: "assistant", content },
              logprobs: null,
              finish_reason: result.finishReason,
            },
          ],
          usage: usage(prompt.length, result.completionTokens),
        });
        return;
      }
      startEventStream(res);
      const extra = request.includeUsage ? { usage: null } : {};
      const chunk = (delta: object, finishReason: FinishReason | null) => ({
        ...head,
        object: "chat.completion.chunk",
        choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
        ...extra,
      });
      await sendEvent(res, chunk({ role: "assistant", content: "" }, null));
      const result = await state.backend.generate(
        prompt,
        params,
        (text) => sendEvent(res, chunk({ content: text }, null)),
        signal,
      );
      await sendEvent(res, chunk({}, result.finishReason));
      if (request.includeUsage) {
        await sendEvent(res, {
          ...head,
          object: "chat.completion.chunk",
          choices: [],
          usage: usage(prompt.length, result.completionTokens),
        });
      }
      await sendEvent(res, "[DONE]");
      res.end();
    }, signal);
  } catch (error) {
    if (error instanceof QueueFullError) {
      throw new ApiError(503, `${error.message}; retry shortly`, {
        code: "queue_full",
        headers: { "retry-after": "1" },
      });
    }
    if (client.signal.aborted) return; // nobody is listening any more
    const failure = state.shutdown.aborted ? shuttingDown() : error;
    if (!res.headersSent) throw failure;
    // Mid-stream: report the error as an event, as OpenAI-compatible servers do.
    const apiError =
      failure instanceof ApiError
        ? failure
        : new ApiError(500, `generation failed: ${(failure as Error).message}`);
    await sendEvent(res, apiError.body());
    res.end();
  }
}
