/**
 * Runs one accepted job inside the TEE: the decrypted request goes to the backend, the streamed
 * answer is sealed frame by frame into the response file, and the receipt over the request and
 * response hashes and the backend's token counts is signed with the machine key. Plaintext lives
 * only in memory here; it is never logged or written.
 */
import type { DeliveryReceipt } from "@gpu-market/common/src/escrow-types.ts";
import {
  type FailureCode,
  type ModelEntry,
  type OpenedRequest,
  signReceipt,
} from "@gpu-market/protocol";
import { type Backend, BackendError } from "../backend/openai.ts";
import type { ResponseFile } from "../store/blobs.ts";
import type { Delivery } from "../store/journal.ts";
import { Framer, type FramerOptions } from "./frames.ts";

export interface RunInput {
  escrow: string;
  jobId: string;
  inputHash: string;
  model: ModelEntry;
  opened: OpenedRequest;
  signing: Uint8Array;
  backend: Backend;
  file: ResponseFile;
  framing: FramerOptions;
  signal: AbortSignal;
}

export interface RunOutput {
  delivery: Delivery;
  frames: number;
  promptTokens: number;
  completionTokens: number;
  /** Milliseconds from the request to the first token. */
  firstTokenMs: number | null;
  inferenceMs: number;
}

/** A job that could not be served, with the code fail_job signs. */
export class RunFailure extends Error {
  readonly code: FailureCode;

  constructor(code: FailureCode, message: string) {
    super(message);
    this.name = "RunFailure";
    this.code = code;
  }
}

export async function runJob(input: RunInput): Promise<RunOutput> {
  const started = Date.now();
  const framer = new Framer(input.opened.responseKey, input.inputHash, input.file, input.framing);
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
      throw new RunFailure("inference_error", "inference stopped: the deliver deadline is near");
    }
    if (error instanceof BackendError) {
      // Nothing ran when the backend did not take the request; otherwise the stream had started.
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
  const inferenceMs = Date.now() - started;
  const responseSha256 = input.file.finish();
  const receipt: DeliveryReceipt = {
    model: input.model.name,
    weights_sha256: input.model.weights_sha256,
    request_sha256: input.inputHash,
    response_sha256: responseSha256,
    prompt_tokens: String(usage.promptTokens),
    completion_tokens: String(usage.completionTokens),
    chunks: String(framer.frames),
  };
  const signature = signReceipt(
    { escrow: input.escrow, job_id: input.jobId, ...receipt },
    input.signing,
  );
  return {
    delivery: { receipt, signature },
    frames: framer.frames,
    promptTokens: usage.promptTokens,
    completionTokens: usage.completionTokens,
    firstTokenMs,
    inferenceMs,
  };
}
