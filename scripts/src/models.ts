/**
 * The models a machine serves, from repeatable `--model` flags: `NAME=PATH` (the weights file,
 * one GGUF or safetensors file, hashed here with sha256 while streaming it, as the provider agent
 * hashes what it loads) or `NAME=sha256:HEX` (the hash, given). The list is sorted by name and
 * checked as the registry checks it (inference-messages.ts parseModels).
 */
import { createReadStream, statSync } from "node:fs";
import { type ModelEntry, parseModels } from "@gpu-market/common/src/inference-messages.ts";
import { sha256 } from "@noble/hashes/sha2.js";
import { CliError, messageOf } from "./errors.ts";

export type ModelSource = { name: string; path: string } | { name: string; weights_sha256: string };

const HASH = /^sha256:([0-9a-fA-F]{64})$/;
const MODEL_HINT =
  "pass --model NAME=PATH (the weights file the backend loads) or --model NAME=sha256:<64 hex>, once per model";

/** One `--model` value: `NAME=PATH` or `NAME=sha256:HEX`. */
export function parseModelFlag(text: string): ModelSource {
  const at = text.indexOf("=");
  if (at <= 0 || at === text.length - 1) {
    throw new CliError(`--model ${text}: expected NAME=PATH or NAME=sha256:<64 hex>`, {
      hint: MODEL_HINT,
    });
  }
  const name = text.slice(0, at);
  const value = text.slice(at + 1);
  const hash = HASH.exec(value);
  if (hash !== null) {
    return { name, weights_sha256: (hash[1] as string).toLowerCase() };
  }
  if (value.startsWith("sha256:")) {
    throw new CliError(`--model ${text}: "${value}" is not sha256:<64 hex digits>`, {
      hint: MODEL_HINT,
    });
  }
  return { name, path: value };
}

/** sha256 (hex) of a file, read in chunks: weights are too large to hold in memory. */
export async function hashWeightsFile(path: string): Promise<string> {
  const hash = sha256.create();
  for await (const chunk of createReadStream(path, { highWaterMark: 4 * 1024 * 1024 })) {
    hash.update(chunk as Buffer);
  }
  return Buffer.from(hash.digest()).toString("hex");
}

async function weightsOf(source: ModelSource): Promise<string> {
  if ("weights_sha256" in source) {
    return source.weights_sha256;
  }
  const where = `--model ${source.name}=${source.path}`;
  let size: number;
  try {
    const stat = statSync(source.path);
    if (!stat.isFile()) {
      throw new Error("not a file");
    }
    size = stat.size;
  } catch (error) {
    throw new CliError(`${where}: ${messageOf(error)}`, {
      hint: "give the one weights file the backend loads (GGUF or safetensors) as --model NAME=PATH",
    });
  }
  if (size === 0) {
    throw new CliError(`${where}: the file is empty`, {
      hint: "give the one weights file the backend loads (GGUF or safetensors) as --model NAME=PATH",
    });
  }
  return hashWeightsFile(source.path);
}

/** The keyset's models: each hashed or taken as given, sorted by name, validated. */
export async function resolveModels(sources: readonly ModelSource[]): Promise<ModelEntry[]> {
  if (sources.length === 0) {
    throw new CliError("no models given: a machine lists the models it serves", {
      hint: MODEL_HINT,
    });
  }
  const seen = new Set<string>();
  for (const source of sources) {
    if (seen.has(source.name)) {
      throw new CliError(`--model ${source.name} is given twice`, { hint: MODEL_HINT });
    }
    seen.add(source.name);
  }
  const entries: ModelEntry[] = [];
  for (const source of sources) {
    entries.push({ name: source.name, weights_sha256: await weightsOf(source) });
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  try {
    return parseModels(entries, "models");
  } catch (error) {
    throw new CliError(`--model: ${messageOf(error)}`, { hint: MODEL_HINT });
  }
}
