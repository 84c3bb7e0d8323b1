/**
 * Cuts the backend's token deltas into frames: a frame is sealed once `maxDeltas` deltas have
 * gathered or `maxDelayMs` has passed since the last frame, and the last frame (final) carries the
 * finish reason. Each sealed frame is appended to the response file at once, so a client reading
 * /stream sees the answer as it is produced.
 */
import { ResponseSealer } from "@gpu-market/protocol";

/** Where sealed frame lines go: a job's response file, or a session request's HTTP answer. */
export interface FrameSink {
  append(line: Uint8Array): void;
  readonly size: number;
}

export interface FramerOptions {
  maxDeltas: number;
  maxDelayMs: number;
  onFrame?: (frames: number, bytes: number) => void;
}

export class Framer {
  readonly #sealer: ResponseSealer;
  readonly #file: FrameSink;
  readonly #options: FramerOptions;
  #pending = "";
  #deltas = 0;
  #lastFrameAt = Date.now();

  constructor(responseKey: Uint8Array, inputHash: string, file: FrameSink, options: FramerOptions) {
    this.#sealer = new ResponseSealer(responseKey, inputHash);
    this.#file = file;
    this.#options = options;
  }

  get frames(): number {
    return this.#sealer.frames;
  }

  add(content: string): void {
    this.#pending += content;
    this.#deltas++;
    if (
      this.#deltas >= this.#options.maxDeltas ||
      Date.now() - this.#lastFrameAt >= this.#options.maxDelayMs
    ) {
      this.#write({ content: this.#pending, finish_reason: null }, false);
    }
  }

  /** Seals the final frame: what is left, with the finish reason. */
  finish(finishReason: string | null): void {
    this.#write({ content: this.#pending, finish_reason: finishReason }, true);
  }

  #write(frame: { content: string; finish_reason: string | null }, final: boolean): void {
    this.#file.append(this.#sealer.seal(frame, final));
    this.#pending = "";
    this.#deltas = 0;
    this.#lastFrameAt = Date.now();
    this.#options.onFrame?.(this.#sealer.frames, this.#file.size);
  }
}
