/**
 * One GGUF model on node-llama-cpp: the model's own chat template renders the messages, its
 * tokenizer counts the prompt, one context sequence generates. The same code serves the tiny
 * generated model and any real GGUF model.
 */
import {
  type ChatHistoryItem,
  type ChatWrapper,
  type Llama,
  type LlamaContext,
  type LlamaContextSequence,
  type LlamaModel,
  resolveChatWrapper,
  type Token,
} from "node-llama-cpp";
import { loadLlamaRuntime } from "./runtime.ts";

export type ChatRole = "system" | "user" | "assistant";

export interface ChatMessage {
  role: ChatRole;
  content: string;
}

export interface SamplingParams {
  maxTokens: number;
  /** 0 picks the most likely token every time (deterministic). */
  temperature: number;
  topP: number;
  /** Makes sampling with temperature > 0 repeatable; without one it follows the clock. */
  seed: number | undefined;
}

export type FinishReason = "stop" | "length";

export interface GenerationResult {
  finishReason: FinishReason;
  /** Every sampled token, the end-of-generation token included. */
  completionTokens: number;
}

export interface BackendOptions {
  modelPath: string;
  /** Tokens of prompt + completion; default the model's training context, at most 4096. */
  contextSize?: number;
  /**
   * CPU threads for evaluation; default 1. ggml's threads wait for each other at every step by
   * spinning, so on a busy machine more threads than free cores is far slower, and a tiny
   * model gains nothing from a second thread.
   */
  threads?: number;
}

const MAX_DEFAULT_CONTEXT = 4096;
/** U+FFFD: the tail of a detokenized piece that may still be an unfinished UTF-8 sequence. */
const REPLACEMENT = "\uFFFD";
const CONTEXT_TOKENS = 8;

export class LlamaBackend {
  readonly contextSize: number;
  readonly chatWrapperName: string;
  private readonly llama: Llama;
  private readonly model: LlamaModel;
  private readonly context: LlamaContext;
  private readonly sequence: LlamaContextSequence;
  private readonly chatWrapper: ChatWrapper;

  private constructor(
    llama: Llama,
    model: LlamaModel,
    context: LlamaContext,
    chatWrapper: ChatWrapper,
  ) {
    this.llama = llama;
    this.model = model;
    this.context = context;
    this.sequence = context.getSequence();
    this.chatWrapper = chatWrapper;
    this.contextSize = context.contextSize;
    this.chatWrapperName = chatWrapper.wrapperName;
  }

  static async load(options: BackendOptions): Promise<LlamaBackend> {
    const llama = await loadLlamaRuntime();
    try {
      const model = await llama.loadModel({ modelPath: options.modelPath, gpuLayers: 0 });
      const contextSize =
        options.contextSize ?? Math.min(model.trainContextSize, MAX_DEFAULT_CONTEXT);
      const context = await model.createContext({
        contextSize,
        sequences: 1,
        threads: options.threads ?? 1,
      });
      return new LlamaBackend(llama, model, context, resolveChatWrapper(model));
    } catch (error) {
      await llama.dispose();
      throw error;
    }
  }

  /** The prompt as the model sees it: its chat template applied, then its tokenizer. */
  promptTokens(messages: readonly ChatMessage[]): Token[] {
    const chatHistory: ChatHistoryItem[] = messages.map((message) => {
      if (message.role === "assistant") return { type: "model", response: [message.content] };
      if (message.role === "system") return { type: "system", text: message.content };
      return { type: "user", text: message.content };
    });
    chatHistory.push({ type: "model", response: [] });
    const { contextText } = this.chatWrapper.generateContextState({ chatHistory });
    return contextText.tokenize(this.model.tokenizer);
  }

  /**
   * Generates after `prompt` (from promptTokens) from an empty sequence. `onText` gets the text
   * as it forms, never splitting a UTF-8 character across calls; awaiting it slows generation
   * to the reader. Stops at the model's end-of-generation token or at maxTokens; when `signal`
   * aborts, evaluation stops and the abort reason is thrown.
   */
  async generate(
    prompt: readonly Token[],
    params: SamplingParams,
    onText: (text: string) => void | Promise<void>,
    signal?: AbortSignal,
  ): Promise<GenerationResult> {
    signal?.throwIfAborted();
    await this.sequence.clearHistory();
    let completionTokens = 0;
    let finishReason: FinishReason = "length";
    let pending: Token[] = [];
    // Tokens before `pending`, so that a detokenizer that drops a leading space (SentencePiece)
    // knows the piece continues a text.
    let before: Token[] = prompt.slice(-CONTEXT_TOKENS);
    const deliver = async (text: string) => {
      before = [...before, ...pending].slice(-CONTEXT_TOKENS);
      pending = [];
      if (text !== "") await onText(text);
    };
    const tokens = this.sequence.evaluate([...prompt], {
      temperature: params.temperature,
      topP: params.topP,
      topK: 0,
      minP: 0,
      seed: params.seed,
      yieldEogToken: true,
    });
    for await (const token of tokens) {
      signal?.throwIfAborted();
      completionTokens += 1;
      if (this.model.isEogToken(token)) {
        finishReason = "stop";
        break;
      }
      pending.push(token);
      const text = this.model.detokenize(pending, false, before);
      if (!text.endsWith(REPLACEMENT)) await deliver(text);
      if (completionTokens >= params.maxTokens) break;
    }
    if (pending.length > 0) await deliver(this.model.detokenize(pending, false, before));
    return { finishReason, completionTokens };
  }

  async dispose(): Promise<void> {
    await this.context.dispose();
    await this.model.dispose();
    await this.llama.dispose();
  }
}
