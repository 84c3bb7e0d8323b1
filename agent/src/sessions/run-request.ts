/**
 * Runs one session request inside the TEE: the decrypted request goes to the backend and the
 * streamed answer is sealed frame by frame (the job's framing) straight into the HTTP answer,
 * hashed as it goes. The caller signs the receipt from what this returns. Plaintext lives only
 * in memory here.
 */
import { createHash } from "node:crypto";
import type { ModelEntry, OpenedRequest } from "@gpu-market/protocol";
import { type Backend, BackendError } from "../backend/openai.ts";
import { Framer, type FramerOptions, type FrameSink } from "../executor/frames.ts";
import { RunFailure } from "../executor/run-job.ts";

/** A FrameSink that hands every line on (to the HTTP answer) and hashes the whole answer. */
export class HashingSink implements FrameSink {
  readonly #write: (line: Uint8Array) => void;
  readonly #hash = createHash("sha256");
  #size = 0;

  constructor(write: (line: Uint8Array) => void) {
    this.#write = write;
  }

  get size(): number {
    return this.#size;
  }

  append(line: Uint8Array): void {
    this.#hash.update(line);
    this.#size += line.length;
    this.#write(line);
  }

  digest(): string {
    return this.#hash.digest("hex");
  }
}

export interface SessionRun {
  responseSha256: string;
  frames: number;
  promptTokens: number;
  completionTokens: number;
  firstTokenMs: number | null;
  inferenceMs: number;
}

export async function runSessionRequest(input: {
  opened: OpenedRequest;
  model: ModelEntry;
  backend: Backend;
  sink: HashingSink;
  framing: FramerOptions;
  signal: AbortSignal;
}): Promise<SessionRun> {
  const started = Date.now();
  const framer = new Framer(
    input.opened.responseKey,
    input.opened.inputHash,
    input.sink,
    input.framing,
  );
  let firstTokenMs: number | null = null;
  let finishReason: string | null = null;
  let usage: { promptTokens: number; completionTokens: number } | null = null;
  try {
    const request = { ...input.opened.request, model: input.model.name };
    for await (const item of input.backend.chat(request, input.signal)) {
      if (item.kind === "usage") {
        usage = item;
        continue;
      }
      if (item.content !== "") {
        firstTokenMs ??= Date.now() - started;
        framer.add(item.content);
      }
      finishReason = item.finishReason ?? finishReason;
    }
  } catch (error) {
    if (input.signal.aborted) {
      throw new RunFailure("inference_error", "inference stopped (client gone or session closing)");
    }
    if (error instanceof BackendError) {
      const code =
        error.kind === "unavailable" && framer.frames === 0
          ? "backend_unavailable"
          : "inference_error";
      throw new RunFailure(code, error.message);
    }
    throw new RunFailure("inference_error", `inference: ${(error as Error).name}`);
  }
  if (usage === null) throw new RunFailure("inference_error", "backend: no usage");
  framer.finish(finishReason);
  return {
    responseSha256: input.sink.digest(),
    frames: framer.frames,
    promptTokens: usage.promptTokens,
    completionTokens: usage.completionTokens,
    firstTokenMs,
    inferenceMs: Date.now() - started,
  };
}
