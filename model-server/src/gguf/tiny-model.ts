/** Writes the tiny model to a file: the bytes, their sha256, and what they describe. */
import { createHash } from "node:crypto";
import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { TINY_LLAMA_SHAPE, type TinyLlamaShape, tinyLlamaGguf } from "./tiny-llama.ts";
import { byteLevelVocabulary } from "./vocab.ts";
import { serializeGguf } from "./writer.ts";

export const DEFAULT_SEED = 1;

export interface TinyModelOptions {
  /** 0 to 4294967295; the same seed always gives the same bytes. */
  seed?: number;
  shape?: TinyLlamaShape;
}

export interface TinyModelInfo {
  path: string;
  seed: number;
  sha256: string;
  bytes: number;
  architecture: "llama";
  parameters: number;
  vocabSize: number;
  shape: TinyLlamaShape;
}

export function tinyModelBytes(options: TinyModelOptions = {}): Uint8Array {
  return serializeGguf(tinyLlamaGguf({ seed: options.seed ?? DEFAULT_SEED, shape: options.shape }));
}

export async function writeTinyModel(
  path: string,
  options: TinyModelOptions = {},
): Promise<TinyModelInfo> {
  const seed = options.seed ?? DEFAULT_SEED;
  const shape = options.shape ?? TINY_LLAMA_SHAPE;
  const file = tinyLlamaGguf({ seed, shape });
  const bytes = serializeGguf(file);
  await mkdir(dirname(path), { recursive: true });
  // Write beside, then rename: a reader never sees half a model.
  const partial = `${path}.${process.pid}.partial`;
  try {
    await writeFile(partial, bytes);
    await rename(partial, path);
  } catch (error) {
    await rm(partial, { force: true });
    throw error;
  }
  return {
    path,
    seed,
    sha256: createHash("sha256").update(bytes).digest("hex"),
    bytes: bytes.length,
    architecture: "llama",
    parameters: file.tensors.reduce((sum, t) => sum + t.data.length, 0),
    vocabSize: byteLevelVocabulary().tokens.length,
    shape,
  };
}
