/**
 * The models this agent serves, from --model NAME=PATH: the agent hashes each weights file itself
 * at start (sha256 over the file's bytes, as the keyset's weights_sha256), so the receipt names
 * the weights actually loaded.
 */
import { createHash } from "node:crypto";
import { createReadStream, statSync } from "node:fs";
import type { ModelEntry } from "@gpu-market/protocol";
import { AgentError } from "../errors.ts";

export async function hashFile(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path, { highWaterMark: 4 * 1024 * 1024 })) {
    hash.update(chunk as Buffer);
  }
  return hash.digest("hex");
}

export interface ModelFile {
  name: string;
  path: string;
}

/** Hashes each model's weights; the result is sorted by name as keysets list models. */
export async function hashModels(models: ModelFile[]): Promise<ModelEntry[]> {
  const out: ModelEntry[] = [];
  for (const model of models) {
    let size: number;
    try {
      size = statSync(model.path).size;
    } catch (error) {
      throw new AgentError(`--model ${model.name}=${model.path}: ${(error as Error).message}`, {
        hint: "give the weights file the backend loads (GGUF or safetensors)",
      });
    }
    if (size === 0) throw new AgentError(`--model ${model.name}=${model.path}: the file is empty`);
    out.push({ name: model.name, weights_sha256: await hashFile(model.path) });
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
