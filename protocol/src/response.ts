/**
 * The encrypted answer: a file of frames, one canonical JSON object per line,
 *   {"ciphertext":<base64>,"final":"0"|"1","index":"<n>","version":"gpumarket/v1/frame"}
 * each frame ChaCha20-Poly1305 under the response key exported from the request's HPKE context,
 * nonce = 4 zero bytes || index (u64 big-endian), associated data = input hash || index || final.
 * Frames are numbered from 0 and exactly the last is final, so a reader detects reordering,
 * truncation, splicing from another job's answer and anything after the end. The frame plaintext
 * is JSON {"content": <text delta>, "finish_reason": <string|null>}.
 * response_sha256 in the signed receipt is sha256 of the whole file.
 */

import { canonicalBytes } from "@gpu-market/common/src/canonical-json.ts";
import { chacha20poly1305 } from "@noble/ciphers/chacha.js";
import { fromBase64, fromHex, fromUtf8, toBase64, utf8 } from "./bytes.ts";
import { fail } from "./errors.ts";

export const RESPONSE_KEY_LABEL = "gpumarket/v1/response";
export const RESPONSE_KEY_BYTES = 32;
/** A bound on frames per answer keeps a reader's work bounded. */
export const MAX_FRAMES = 100_000;
const NEWLINE = 0x0a;

export interface FramePlaintext {
  content: string;
  finish_reason: string | null;
}

function nonce(index: number): Uint8Array {
  const out = new Uint8Array(12);
  new DataView(out.buffer).setBigUint64(4, BigInt(index));
  return out;
}

function associatedData(inputHash: Uint8Array, index: number, final: boolean): Uint8Array {
  const out = new Uint8Array(32 + 8 + 1);
  out.set(inputHash, 0);
  new DataView(out.buffer).setBigUint64(32, BigInt(index));
  out[40] = final ? 1 : 0;
  return out;
}

/** Seals frames in order; the agent writes each line as it is produced. */
export class ResponseSealer {
  private readonly key: Uint8Array;
  private readonly inputHash: Uint8Array;
  private next = 0;
  private finished = false;

  constructor(responseKey: Uint8Array, inputHashHex: string) {
    this.key = responseKey;
    this.inputHash = fromHex(inputHashHex, "input_hash", 32);
  }

  /** The frame's line, newline included. */
  seal(frame: FramePlaintext, final: boolean): Uint8Array {
    if (this.finished) {
      throw new Error("internal: the response already has its final frame");
    }
    if (this.next >= MAX_FRAMES) {
      throw new Error(`internal: a response has at most ${MAX_FRAMES} frames`);
    }
    const index = this.next++;
    this.finished = final;
    const plaintext = utf8.encode(JSON.stringify(frame));
    const ciphertext = chacha20poly1305(
      this.key,
      nonce(index),
      associatedData(this.inputHash, index, final),
    ).encrypt(plaintext);
    const line = canonicalBytes({
      version: "gpumarket/v1/frame",
      index: String(index),
      final: final ? "1" : "0",
      ciphertext: toBase64(ciphertext),
    });
    const out = new Uint8Array(line.length + 1);
    out.set(line);
    out[line.length] = NEWLINE;
    return out;
  }

  get frames(): number {
    return this.next;
  }
}

function parseFrame(line: string, index: number): { final: boolean; ciphertext: Uint8Array } {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return fail("bad_response", `frame ${index}: not JSON`);
  }
  const frame = value as Record<string, unknown>;
  if (
    typeof value !== "object" ||
    value === null ||
    frame.version !== "gpumarket/v1/frame" ||
    typeof frame.ciphertext !== "string" ||
    (frame.final !== "0" && frame.final !== "1") ||
    Object.keys(frame).length !== 4
  ) {
    fail("bad_response", `frame ${index}: expected {version, index, final, ciphertext}`);
  }
  if (frame.index !== String(index)) {
    fail(
      "bad_response",
      `frame ${index}: carries index ${String(frame.index)} (reordered or spliced)`,
    );
  }
  return { final: frame.final === "1", ciphertext: fromBase64(frame.ciphertext, `frame ${index}`) };
}

/** Opens frames as they arrive (streaming) and refuses anything out of order or after the end. */
export class ResponseReader {
  private readonly key: Uint8Array;
  private readonly inputHash: Uint8Array;
  private next = 0;
  private ended = false;

  constructor(responseKey: Uint8Array, inputHashHex: string) {
    this.key = responseKey;
    this.inputHash = fromHex(inputHashHex, "input_hash", 32);
  }

  open(line: string): FramePlaintext {
    if (this.ended) {
      fail("bad_response", "response: data after the final frame");
    }
    if (this.next >= MAX_FRAMES) {
      fail("bad_response", `response: more than ${MAX_FRAMES} frames`);
    }
    const index = this.next;
    const { final, ciphertext } = parseFrame(line, index);
    let plaintext: Uint8Array;
    try {
      plaintext = chacha20poly1305(
        this.key,
        nonce(index),
        associatedData(this.inputHash, index, final),
      ).decrypt(ciphertext);
    } catch {
      return fail("bad_response", `frame ${index}: does not decrypt with this job's response key`);
    }
    let value: unknown;
    try {
      value = JSON.parse(fromUtf8.decode(plaintext));
    } catch {
      return fail("bad_response", `frame ${index}: plaintext is not UTF-8 JSON`);
    }
    const body = value as Record<string, unknown>;
    if (
      typeof body?.content !== "string" ||
      (body.finish_reason !== null && typeof body.finish_reason !== "string")
    ) {
      fail("bad_response", `frame ${index}: expected {content, finish_reason}`);
    }
    this.next += 1;
    this.ended = final;
    return { content: body.content, finish_reason: body.finish_reason as string | null };
  }

  get complete(): boolean {
    return this.ended;
  }

  get frames(): number {
    return this.next;
  }
}

export interface OpenedResponse {
  content: string;
  finishReason: string | null;
  frames: number;
}

/** Opens a whole response file; it must end with the final frame and a newline. */
export function openResponse(
  file: Uint8Array,
  responseKey: Uint8Array,
  inputHashHex: string,
): OpenedResponse {
  let text: string;
  try {
    text = fromUtf8.decode(file);
  } catch {
    return fail("bad_response", "response: not UTF-8");
  }
  if (!text.endsWith("\n")) {
    fail("bad_response", "response: truncated (no final newline)");
  }
  const reader = new ResponseReader(responseKey, inputHashHex);
  let content = "";
  let finishReason: string | null = null;
  for (const line of text.slice(0, -1).split("\n")) {
    const frame = reader.open(line);
    content += frame.content;
    finishReason = frame.finish_reason ?? finishReason;
  }
  if (!reader.complete) {
    fail("bad_response", `response: truncated after ${reader.frames} frames (no final frame)`);
  }
  return { content, finishReason, frames: reader.frames };
}
