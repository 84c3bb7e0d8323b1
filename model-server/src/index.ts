/**
 * @gpu-market/model-server: the embedded inference backend (an OpenAI-compatible HTTP server on
 * node-llama-cpp, CPU) and the writer of the tiny real-architecture GGUF model it serves in
 * tests and demos.
 */

export { TINY_LLAMA_SHAPE, type TinyLlamaShape } from "./gguf/tiny-llama.ts";
export {
  DEFAULT_SEED,
  type TinyModelInfo,
  type TinyModelOptions,
  tinyModelBytes,
  writeTinyModel,
} from "./gguf/tiny-model.ts";
export type { ChatMessage, ChatRole, FinishReason, SamplingParams } from "./llama/backend.ts";
export { LlamaBackend } from "./llama/backend.ts";
export { RuntimeError } from "./llama/runtime.ts";
export {
  DEFAULT_MAX_QUEUED,
  defaultModelName,
  type ModelServer,
  type ModelServerOptions,
  sha256File,
  startModelServer,
} from "./server/model-server.ts";
