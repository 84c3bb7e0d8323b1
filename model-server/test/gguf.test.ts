import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GGMLQuantizationType, gguf } from "@huggingface/gguf";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { tinyLlamaTensorLayout } from "../src/gguf/tiny-llama.ts";
import { byteToUnicode, CHAT_TEMPLATE, SPECIAL_TOKENS } from "../src/gguf/vocab.ts";
import { alignUp, type GgufFile, serializeGguf } from "../src/gguf/writer.ts";
import { TINY_LLAMA_SHAPE, tinyModelBytes, writeTinyModel } from "../src/index.ts";

/** sha256 of `model-server generate --seed 1`: changes only when the layout or weights change. */
const SEED_1_SHA256 = "1d9568745095b255236a4ba05d3687de1f81abf47143ec658c3685cbc2bf0f6b";

/** The parsed metadata by key (the package types only the keys of known architectures). */
async function readMetadata(path: string): Promise<Record<string, unknown>> {
  return (await gguf(path, { allowLocalFile: true })).metadata as unknown as Record<
    string,
    unknown
  >;
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "model-server-gguf-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("the tiny model, read back by @huggingface/gguf", () => {
  test("metadata: llama architecture, hyperparameters, byte-level vocabulary, chat template", async () => {
    const info = await writeTinyModel(join(dir, "tiny.gguf"), { seed: 1 });
    const metadata = await readMetadata(info.path);
    const s = TINY_LLAMA_SHAPE;
    expect(metadata.version).toBe(3);
    expect(metadata["general.architecture"]).toBe("llama");
    expect(metadata["general.alignment"]).toBe(32);
    expect(metadata["general.file_type"]).toBe(0);
    expect(metadata["llama.context_length"]).toBe(s.contextLength);
    expect(metadata["llama.embedding_length"]).toBe(s.embeddingLength);
    expect(metadata["llama.block_count"]).toBe(s.blockCount);
    expect(metadata["llama.feed_forward_length"]).toBe(s.feedForwardLength);
    expect(metadata["llama.attention.head_count"]).toBe(s.headCount);
    expect(metadata["llama.attention.head_count_kv"]).toBe(s.headCountKv);
    expect(metadata["llama.rope.dimension_count"]).toBe(s.embeddingLength / s.headCount);
    expect(metadata["llama.attention.layer_norm_rms_epsilon"]).toBeCloseTo(1e-5, 10);
    expect(metadata["llama.vocab_size"]).toBe(259);
    expect(metadata["tokenizer.ggml.model"]).toBe("gpt2");
    expect(metadata["tokenizer.ggml.pre"]).toBe("qwen2");
    const tokens = metadata["tokenizer.ggml.tokens"] as string[];
    expect(tokens).toEqual([...byteToUnicode(), ...SPECIAL_TOKENS]);
    expect(metadata["tokenizer.ggml.token_type"]).toEqual([
      ...Array(256).fill(1),
      ...Array(3).fill(3),
    ]);
    expect(metadata["tokenizer.ggml.merges"]).toEqual([]);
    expect(metadata["tokenizer.ggml.bos_token_id"]).toBe(tokens.indexOf("<|endoftext|>"));
    expect(metadata["tokenizer.ggml.eos_token_id"]).toBe(tokens.indexOf("<|im_end|>"));
    expect(metadata["tokenizer.ggml.add_bos_token"]).toBe(false);
    expect(metadata["tokenizer.chat_template"]).toBe(CHAT_TEMPLATE);
    expect(info.vocabSize).toBe(tokens.length);
  });

  test("tensor infos, offsets and alignment; data where the infos say", async () => {
    const info = await writeTinyModel(join(dir, "tiny.gguf"), { seed: 1 });
    const parsed = await gguf(info.path, { allowLocalFile: true, computeParametersCount: true });
    const layout = tinyLlamaTensorLayout(TINY_LLAMA_SHAPE, 259);
    expect(parsed.metadata.tensor_count).toBe(BigInt(layout.length));
    expect(parsed.tensorInfos.map((t) => t.name)).toEqual(layout.map((t) => t.name));
    expect(parsed.tensorInfos.map((t) => t.shape.map(Number))).toEqual(layout.map((t) => t.dims));
    expect(parsed.tensorInfos.every((t) => t.dtype === GGMLQuantizationType.F32)).toBe(true);
    expect(parsed.parameterCount).toBe(info.parameters);

    // Data section aligned; each tensor right after the previous one, padded to 32 bytes.
    expect(parsed.tensorDataOffset % 32n).toBe(0n);
    let expected = 0n;
    for (const tensor of parsed.tensorInfos) {
      expect(tensor.offset).toBe(expected);
      const bytes = tensor.shape.reduce((a, b) => a * b, 1n) * 4n;
      expected += BigInt(alignUp(Number(bytes), 32));
    }
    expect(BigInt((await stat(info.path)).size)).toBe(parsed.tensorDataOffset + expected);

    // Norm weights are 1; matrix weights lie within ±1/sqrt(fan-in) and are not all equal.
    const file = await readFile(info.path);
    const view = (name: string) => {
      const tensor = parsed.tensorInfos.find((t) => t.name === name);
      if (tensor === undefined) throw new Error(`no ${name}`);
      const start = Number(parsed.tensorDataOffset + tensor.offset);
      const count = Number(tensor.shape.reduce((a, b) => a * b, 1n));
      return new Float32Array(
        file.buffer.slice(file.byteOffset + start, file.byteOffset + start + count * 4),
      );
    };
    expect([...view("blk.1.ffn_norm.weight")].every((v) => v === 1)).toBe(true);
    const q = view("blk.0.attn_q.weight");
    const bound = 1 / Math.sqrt(TINY_LLAMA_SHAPE.embeddingLength);
    expect(Math.max(...q)).toBeLessThanOrEqual(bound);
    expect(Math.min(...q)).toBeGreaterThanOrEqual(-bound);
    expect(new Set(q).size).toBeGreaterThan(q.length * 0.99);
    expect(info.bytes).toBeLessThan(2_000_000);
  });
});

describe("determinism", () => {
  test("the same seed gives the same bytes and sha256, pinned for seed 1; another seed differs", async () => {
    const a = await writeTinyModel(join(dir, "a", "model.gguf"), { seed: 1 });
    const b = await writeTinyModel(join(dir, "b", "model.gguf"), { seed: 1 });
    const c = await writeTinyModel(join(dir, "c.gguf"), { seed: 2 });
    const sha = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");
    expect(a.sha256).toBe(b.sha256);
    expect(sha(await readFile(a.path))).toBe(a.sha256);
    expect(sha(tinyModelBytes({ seed: 1 }))).toBe(a.sha256);
    expect(a.sha256).toBe(SEED_1_SHA256);
    expect(c.sha256).not.toBe(a.sha256);
    expect(c.bytes).toBe(a.bytes);
  });
});

describe("the byte vocabulary", () => {
  test("256 distinct printable characters, one per byte, as GPT-2 maps them", () => {
    const table = byteToUnicode();
    expect(new Set(table).size).toBe(256);
    expect(table.every((ch) => /^\S$/u.test(ch) && !/\p{Cc}/u.test(ch))).toBe(true);
    expect(table["A".charCodeAt(0)]).toBe("A");
    expect(table[0x20]).toBe("Ġ"); // GPT-2's space
    expect(table[0x0a]).toBe("Ċ"); // GPT-2's newline
  });
});

describe("the GGUF writer", () => {
  const tensor = { name: "t", dims: [3, 2], type: "F32" as const, data: new Float32Array(6) };

  test("every value type it writes reads back, with a 64-byte alignment", async () => {
    const file: GgufFile = {
      alignment: 64,
      metadata: [
        ["general.architecture", { type: "string", value: "llama" }],
        ["test.u32", { type: "uint32", value: 4_000_000_000 }],
        ["test.i32", { type: "int32", value: -7 }],
        ["test.f32", { type: "float32", value: 0.5 }],
        ["test.bool", { type: "bool", value: true }],
        ["test.text", { type: "string", value: "héllo ✓" }],
        ["test.strings", { type: "array", itemType: "string", value: ["a", "", "ü"] }],
        ["test.ints", { type: "array", itemType: "int32", value: [1, -2, 3] }],
        ["test.floats", { type: "array", itemType: "float32", value: [0.25, -1] }],
      ],
      tensors: [
        { ...tensor, data: Float32Array.from([1, 2, 3, 4, 5, 6]) },
        { name: "u", dims: [5], type: "F32", data: Float32Array.from([7, 8, 9, 10, 11]) },
      ],
    };
    const path = join(dir, "values.gguf");
    await writeFile(path, serializeGguf(file));
    const { tensorInfos, tensorDataOffset } = await gguf(path, { allowLocalFile: true });
    const metadata = await readMetadata(path);
    expect(metadata["general.alignment"]).toBe(64);
    expect(metadata["test.u32"]).toBe(4_000_000_000);
    expect(metadata["test.i32"]).toBe(-7);
    expect(metadata["test.f32"]).toBe(0.5);
    expect(metadata["test.bool"]).toBe(true);
    expect(metadata["test.text"]).toBe("héllo ✓");
    expect(metadata["test.strings"]).toEqual(["a", "", "ü"]);
    expect(metadata["test.ints"]).toEqual([1, -2, 3]);
    expect(metadata["test.floats"]).toEqual([0.25, -1]);
    expect(tensorDataOffset % 64n).toBe(0n);
    expect(tensorInfos.map((t) => [t.name, t.shape, t.offset])).toEqual([
      ["t", [3n, 2n], 0n],
      ["u", [5n], 64n],
    ]);
    const bytes = await readFile(path);
    expect(bytes.length).toBe(Number(tensorDataOffset) + 128);
    expect(bytes.readFloatLE(Number(tensorDataOffset) + 64 + 4 * 4)).toBe(11);
  });

  test("refuses what llama.cpp would not read, naming the problem", () => {
    const meta = (key: string) => ({ metadata: [[key, { type: "bool", value: true }]] as const });
    expect(() => serializeGguf({ ...meta("Bad-Key"), tensors: [] })).toThrow(
      'invalid metadata key "Bad-Key"',
    );
    expect(() =>
      serializeGguf({ metadata: [...meta("a.b").metadata, ...meta("a.b").metadata], tensors: [] }),
    ).toThrow('duplicate metadata key "a.b"');
    expect(() => serializeGguf({ ...meta("general.alignment"), tensors: [] })).toThrow(
      'duplicate metadata key "general.alignment"',
    );
    expect(() => serializeGguf({ metadata: [], tensors: [tensor, tensor] })).toThrow(
      'duplicate tensor "t"',
    );
    expect(() =>
      serializeGguf({ metadata: [], tensors: [{ ...tensor, data: new Float32Array(5) }] }),
    ).toThrow('tensor "t" has 5 values for dims [3, 2]');
    expect(() =>
      serializeGguf({ metadata: [], tensors: [{ ...tensor, name: "x".repeat(65) }] }),
    ).toThrow("must be 1 to 64 bytes");
    expect(() =>
      serializeGguf({ metadata: [], tensors: [{ ...tensor, dims: [1, 1, 1, 1, 6] }] }),
    ).toThrow("has 5 dims");
    expect(() => serializeGguf({ metadata: [], tensors: [], alignment: 48 })).toThrow(
      "alignment 48 must be a power of two",
    );
    expect(() =>
      serializeGguf({ metadata: [["a.n", { type: "uint32", value: -1 }]], tensors: [] }),
    ).toThrow("a.n: -1 is not a uint32");
    expect(() =>
      serializeGguf({ metadata: [["a.f", { type: "float32", value: Number.NaN }]], tensors: [] }),
    ).toThrow("a.f: NaN is not a finite float");
  });
});
