/**
 * Ciphertext on disk, content-addressed: request envelopes under envelopes/<sha256> (the job's
 * input_hash) and finished response files under responses/<sha256> (the receipt's
 * response_sha256). A response being written lives in responses/partial/<job id> until it is
 * complete. Nothing else is ever written: the operator's disk holds only ciphertext.
 */
import { createHash } from "node:crypto";
import {
  closeSync,
  existsSync,
  fsyncSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import { sha256Hex } from "@gpu-market/protocol";
import {
  ensureDir,
  removeDurably,
  removeTemporaries,
  renameDurably,
  writeAtomic,
} from "./files.ts";

const HASH = /^[0-9a-f]{64}$/;

function requireHash(hash: string): string {
  if (!HASH.test(hash)) throw new Error(`internal: "${hash}" is not a sha256`);
  return hash;
}

export class Blobs {
  readonly envelopes: string;
  readonly responses: string;
  readonly partial: string;

  constructor(dataDir: string) {
    this.envelopes = join(dataDir, "envelopes");
    this.responses = join(dataDir, "responses");
    this.partial = join(this.responses, "partial");
    for (const dir of [this.envelopes, this.responses, this.partial]) {
      ensureDir(dir);
      removeTemporaries(dir);
    }
  }

  hasEnvelope(hash: string): boolean {
    return existsSync(join(this.envelopes, requireHash(hash)));
  }

  /** Stores an envelope under its sha256 (once; the same bytes again change nothing). */
  putEnvelope(bytes: Uint8Array): string {
    const hash = sha256Hex(bytes);
    if (!this.hasEnvelope(hash)) writeAtomic(this.envelopes, hash, bytes);
    return hash;
  }

  /** The envelope, checked against its name (a damaged file reads as missing). */
  readEnvelope(hash: string): Uint8Array | null {
    const path = join(this.envelopes, requireHash(hash));
    if (!existsSync(path)) return null;
    const bytes = new Uint8Array(readFileSync(path));
    return sha256Hex(bytes) === hash ? bytes : null;
  }

  hasResponse(hash: string): boolean {
    return existsSync(join(this.responses, requireHash(hash)));
  }

  responsePath(hash: string): string {
    return join(this.responses, requireHash(hash));
  }

  partialPath(jobId: string): string {
    return join(this.partial, jobId);
  }

  /** Removes a stored envelope or finished response; returns the bytes freed (0: none was there). */
  remove(kind: "envelope" | "response", hash: string): number {
    const dir = kind === "envelope" ? this.envelopes : this.responses;
    const path = join(dir, requireHash(hash));
    if (!existsSync(path)) return 0;
    const bytes = statSync(path).size;
    // Durable before the job's record goes (retention.ts), so no file outlives its last record.
    removeDurably(dir, hash);
    return bytes;
  }

  /** Starts the response file of a job (an earlier unfinished one is discarded). */
  startResponse(jobId: string): ResponseFile {
    rmSync(this.partialPath(jobId), { force: true });
    return new ResponseFile(this.partialPath(jobId), this.responses);
  }

  /** Removes the unfinished response of a job. */
  dropPartial(jobId: string): void {
    rmSync(this.partialPath(jobId), { force: true });
  }

  /** Job ids with an unfinished response on disk. */
  partials(): string[] {
    return readdirSync(this.partial);
  }
}

/** A response file being written: lines appended as frames are sealed, hashed as they go. */
export class ResponseFile {
  readonly path: string;
  readonly #dir: string;
  readonly #fd: number;
  readonly #hash = createHash("sha256");
  #size = 0;
  #closed = false;

  constructor(path: string, dir: string) {
    this.path = path;
    this.#dir = dir;
    this.#fd = openSync(path, "wx", 0o600);
  }

  get size(): number {
    return this.#size;
  }

  append(line: Uint8Array): void {
    let written = 0;
    while (written < line.length) {
      written += writeSync(this.#fd, line, written, line.length - written);
    }
    this.#hash.update(line);
    this.#size += line.length;
  }

  /** fsyncs the file and moves it to responses/<sha256>; returns the hash. */
  finish(): string {
    fsyncSync(this.#fd);
    closeSync(this.#fd);
    this.#closed = true;
    const hash = this.#hash.digest("hex");
    renameDurably(this.path, this.#dir, hash);
    return hash;
  }

  /** Closes and removes an unfinished file. */
  discard(): void {
    if (!this.#closed) {
      closeSync(this.#fd);
      this.#closed = true;
    }
    rmSync(this.path, { force: true });
  }
}
