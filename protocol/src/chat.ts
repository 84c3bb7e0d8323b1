/**
 * The plaintext of a request: the subset of OpenAI's chat completion request that the market
 * carries to the backend. Validated on both sides: the client before encrypting, the agent after
 * decrypting (a request it cannot parse fails the job with "bad_request").
 */
import { fail } from "./errors.ts";

export type ChatRole = "system" | "user" | "assistant";

export interface ChatMessage {
  role: ChatRole;
  content: string;
}

export interface ChatRequest {
  /** The model's name as the machine lists it in its keyset. */
  model: string;
  messages: ChatMessage[];
  max_tokens: number;
  temperature?: number;
  seed?: number;
}

export const LIMITS = { messages: 256, contentChars: 1_000_000, maxTokens: 32_768 } as const;
const ROLES: readonly ChatRole[] = ["system", "user", "assistant"];
const KEYS = ["model", "messages", "max_tokens", "temperature", "seed"];

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function parseChatRequest(value: unknown): ChatRequest {
  if (!isObject(value)) {
    fail("bad_input", "request: expected an object");
  }
  for (const key of Object.keys(value)) {
    if (!KEYS.includes(key)) {
      fail("bad_input", `request: unknown field "${key}" (allowed: ${KEYS.join(", ")})`);
    }
  }
  const { model, messages, max_tokens, temperature, seed } = value;
  if (typeof model !== "string" || model.length === 0 || model.length > 64) {
    fail("bad_input", "request.model: expected a model name of 1 to 64 characters");
  }
  if (!Array.isArray(messages) || messages.length === 0 || messages.length > LIMITS.messages) {
    fail("bad_input", `request.messages: expected 1 to ${LIMITS.messages} messages`);
  }
  let chars = 0;
  const parsed = messages.map((message, i): ChatMessage => {
    if (!isObject(message) || Object.keys(message).some((k) => k !== "role" && k !== "content")) {
      fail("bad_input", `request.messages[${i}]: expected {role, content}`);
    }
    if (!ROLES.includes(message.role as ChatRole)) {
      fail("bad_input", `request.messages[${i}].role: expected one of ${ROLES.join(", ")}`);
    }
    if (typeof message.content !== "string") {
      fail("bad_input", `request.messages[${i}].content: expected a string`);
    }
    chars += message.content.length;
    return { role: message.role as ChatRole, content: message.content };
  });
  if (chars > LIMITS.contentChars) {
    fail("bad_input", `request.messages: at most ${LIMITS.contentChars} characters in all`);
  }
  if (!Number.isInteger(max_tokens) || (max_tokens as number) < 1) {
    fail("bad_input", `request.max_tokens: expected an integer from 1 to ${LIMITS.maxTokens}`);
  }
  if ((max_tokens as number) > LIMITS.maxTokens) {
    fail("bad_input", `request.max_tokens: expected an integer from 1 to ${LIMITS.maxTokens}`);
  }
  const request: ChatRequest = { model, messages: parsed, max_tokens: max_tokens as number };
  if (temperature !== undefined) {
    if (typeof temperature !== "number" || !(temperature >= 0 && temperature <= 2)) {
      fail("bad_input", "request.temperature: expected a number from 0 to 2");
    }
    request.temperature = temperature;
  }
  if (seed !== undefined) {
    if (!Number.isSafeInteger(seed) || (seed as number) < 0) {
      fail("bad_input", "request.seed: expected a non-negative integer");
    }
    request.seed = seed as number;
  }
  return request;
}
