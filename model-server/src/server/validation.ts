/**
 * POST /v1/chat/completions bodies, checked field by field. Every problem is a 400 naming the
 * field (e.g. `messages[1].content`). Fields this server does not implement are refused rather
 * than ignored, so a client never believes a setting took effect when it did not; null counts
 * as absent for optional fields, as in the OpenAI API.
 */
import type { ChatMessage, ChatRole } from "../llama/backend.ts";
import { invalidField } from "./errors.ts";

export interface ChatCompletionRequest {
  model: string;
  messages: ChatMessage[];
  /** Undefined: as many as the context holds after the prompt. */
  maxTokens: number | undefined;
  temperature: number;
  topP: number;
  seed: number | undefined;
  stream: boolean;
  includeUsage: boolean;
}

const FIELDS = new Set([
  "model",
  "messages",
  "max_tokens",
  "max_completion_tokens",
  "temperature",
  "top_p",
  "seed",
  "stream",
  "stream_options",
  "n",
]);

const ROLES: Record<string, ChatRole> = {
  system: "system",
  developer: "system",
  user: "user",
  assistant: "assistant",
};

const MAX_SEED = 0xffff_ffff;

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return `a ${typeof value}`;
}

function optional(body: Json, key: string): unknown {
  const value = body[key];
  return value === null ? undefined : value;
}

function numberIn(value: unknown, param: string, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw invalidField(param, `expected a number, got ${describe(value)}`, "invalid_type");
  }
  if (value < min || value > max) throw invalidField(param, `must be from ${min} to ${max}`);
  return value;
}

function integerIn(value: unknown, param: string, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw invalidField(param, `expected an integer, got ${describe(value)}`, "invalid_type");
  }
  if (value < min || value > max) throw invalidField(param, `must be from ${min} to ${max}`);
  return value;
}

function boolean(value: unknown, param: string): boolean {
  if (typeof value !== "boolean") {
    throw invalidField(param, `expected a boolean, got ${describe(value)}`, "invalid_type");
  }
  return value;
}

function content(value: unknown, param: string): string {
  if (typeof value === "string") return value;
  if (!Array.isArray(value)) {
    throw invalidField(
      param,
      `expected a string or an array of text parts, got ${describe(value)}`,
      "invalid_type",
    );
  }
  return value
    .map((part, i) => {
      const where = `${param}[${i}]`;
      if (!isObject(part)) throw invalidField(where, "expected an object", "invalid_type");
      if (part.type !== "text") {
        throw invalidField(`${where}.type`, 'only "text" parts are supported', "unsupported_value");
      }
      if (typeof part.text !== "string") {
        throw invalidField(`${where}.text`, "expected a string", "invalid_type");
      }
      return part.text;
    })
    .join("\n");
}

function messages(value: unknown): ChatMessage[] {
  if (value === undefined || value === null) {
    throw invalidField("messages", "is required", "missing_required_parameter");
  }
  if (!Array.isArray(value)) {
    throw invalidField("messages", `expected an array, got ${describe(value)}`, "invalid_type");
  }
  if (value.length === 0) throw invalidField("messages", "must hold at least one message");
  return value.map((message, i) => {
    const where = `messages[${i}]`;
    if (!isObject(message)) {
      throw invalidField(where, `expected an object, got ${describe(message)}`, "invalid_type");
    }
    for (const key of Object.keys(message)) {
      if (key !== "role" && key !== "content") {
        throw invalidField(
          `${where}.${key}`,
          "is not supported by this server",
          "unknown_parameter",
        );
      }
    }
    if (typeof message.role !== "string") {
      throw invalidField(`${where}.role`, "is required (system, developer, user or assistant)");
    }
    const role = Object.hasOwn(ROLES, message.role) ? ROLES[message.role] : undefined;
    if (role === undefined) {
      throw invalidField(
        `${where}.role`,
        `"${message.role}" is not supported (system, developer, user or assistant)`,
        "unsupported_value",
      );
    }
    if (message.content === undefined || message.content === null) {
      throw invalidField(`${where}.content`, "is required", "missing_required_parameter");
    }
    return { role, content: content(message.content, `${where}.content`) };
  });
}

function maxTokens(body: Json, contextSize: number): number | undefined {
  const legacy = optional(body, "max_tokens");
  const current = optional(body, "max_completion_tokens");
  const a = legacy === undefined ? undefined : integerIn(legacy, "max_tokens", 1, contextSize);
  const b =
    current === undefined ? undefined : integerIn(current, "max_completion_tokens", 1, contextSize);
  if (a !== undefined && b !== undefined && a !== b) {
    throw invalidField("max_tokens", "differs from max_completion_tokens; send one of them");
  }
  return b ?? a;
}

/** `body` is the parsed JSON; `contextSize` bounds max_tokens. */
export function parseChatCompletionRequest(
  body: unknown,
  contextSize: number,
): ChatCompletionRequest {
  if (!isObject(body)) {
    throw invalidField("body", `expected a JSON object, got ${describe(body)}`, "invalid_type");
  }
  for (const key of Object.keys(body)) {
    if (!FIELDS.has(key)) {
      throw invalidField(key, "is not supported by this server", "unknown_parameter");
    }
  }
  if (typeof body.model !== "string" || body.model === "") {
    throw invalidField(
      "model",
      body.model === undefined ? "is required" : `expected a model id, got ${describe(body.model)}`,
      body.model === undefined ? "missing_required_parameter" : "invalid_type",
    );
  }
  const n = optional(body, "n");
  if (n !== undefined && integerIn(n, "n", 1, 1) !== 1) throw invalidField("n", "must be 1");
  const stream = optional(body, "stream");
  const streaming = stream === undefined ? false : boolean(stream, "stream");
  const streamOptions = optional(body, "stream_options");
  let includeUsage = false;
  if (streamOptions !== undefined) {
    if (!streaming) throw invalidField("stream_options", "is only allowed when stream is true");
    if (!isObject(streamOptions)) {
      throw invalidField("stream_options", `expected an object, got ${describe(streamOptions)}`);
    }
    for (const key of Object.keys(streamOptions)) {
      if (key !== "include_usage") {
        throw invalidField(`stream_options.${key}`, "is not supported", "unknown_parameter");
      }
    }
    const include = optional(streamOptions, "include_usage");
    includeUsage = include === undefined ? false : boolean(include, "stream_options.include_usage");
  }
  const temperature = optional(body, "temperature");
  const topP = optional(body, "top_p");
  const seed = optional(body, "seed");
  return {
    model: body.model,
    messages: messages(body.messages),
    maxTokens: maxTokens(body, contextSize),
    temperature: temperature === undefined ? 1 : numberIn(temperature, "temperature", 0, 2),
    topP: topP === undefined ? 1 : numberIn(topP, "top_p", 0, 1),
    seed: seed === undefined ? undefined : integerIn(seed, "seed", 0, MAX_SEED),
    stream: streaming,
    includeUsage,
  };
}
