/**
 * The tiny model's layout: llama architecture (RMSNorm, RoPE, grouped-query attention, SwiGLU),
 * tensor names and shapes as llama.cpp's llama loader creates them, metadata keys and types as
 * llama.cpp reads them (it checks each key's type exactly), weights drawn from a seeded PRNG.
 */
import { SeededRandom } from "./random.ts";
import { byteLevelVocabulary, CHAT_TEMPLATE, ENDOFTEXT_ID, IM_END_ID } from "./vocab.ts";
import type { GgufFile, GgufTensor, GgufValue } from "./writer.ts";

export interface TinyLlamaShape {
  contextLength: number;
  embeddingLength: number;
  blockCount: number;
  feedForwardLength: number;
  headCount: number;
  headCountKv: number;
}

/** About 0.45 M parameters, 1.8 MB in F32. */
export const TINY_LLAMA_SHAPE: TinyLlamaShape = {
  contextLength: 2048,
  embeddingLength: 128,
  blockCount: 2,
  feedForwardLength: 384,
  headCount: 4,
  headCountKv: 2,
};

export const RMS_NORM_EPSILON = 1e-5;
export const ROPE_FREQ_BASE = 10_000;

/** tensor name -> dims in ggml `ne` order ([input, output] for a matmul weight). */
export function tinyLlamaTensorLayout(
  shape: TinyLlamaShape,
  vocabSize: number,
): Array<{ name: string; dims: number[] }> {
  const { embeddingLength: embd, feedForwardLength: ff, headCount, headCountKv } = shape;
  const headDim = embd / headCount;
  const kvDim = headDim * headCountKv;
  const layout = [{ name: "token_embd.weight", dims: [embd, vocabSize] }];
  for (let i = 0; i < shape.blockCount; i++) {
    layout.push(
      { name: `blk.${i}.attn_norm.weight`, dims: [embd] },
      { name: `blk.${i}.attn_q.weight`, dims: [embd, embd] },
      { name: `blk.${i}.attn_k.weight`, dims: [embd, kvDim] },
      { name: `blk.${i}.attn_v.weight`, dims: [embd, kvDim] },
      { name: `blk.${i}.attn_output.weight`, dims: [embd, embd] },
      { name: `blk.${i}.ffn_norm.weight`, dims: [embd] },
      { name: `blk.${i}.ffn_gate.weight`, dims: [embd, ff] },
      { name: `blk.${i}.ffn_up.weight`, dims: [embd, ff] },
      { name: `blk.${i}.ffn_down.weight`, dims: [ff, embd] },
    );
  }
  layout.push(
    { name: "output_norm.weight", dims: [embd] },
    { name: "output.weight", dims: [embd, vocabSize] },
  );
  return layout;
}

function checkShape(shape: TinyLlamaShape): void {
  for (const [key, value] of Object.entries(shape)) {
    if (!Number.isInteger(value) || value <= 0) throw new RangeError(`${key} must be positive`);
  }
  if (shape.embeddingLength % shape.headCount !== 0) {
    throw new RangeError("embeddingLength must be a multiple of headCount");
  }
  if (shape.headCount % shape.headCountKv !== 0) {
    throw new RangeError("headCount must be a multiple of headCountKv");
  }
  // RoPE rotates pairs of dimensions.
  if ((shape.embeddingLength / shape.headCount) % 2 !== 0) {
    throw new RangeError("the head dimension must be even");
  }
}

/**
 * Norm weights are 1 (as initialised before training); matrices are uniform in
 * ±1/sqrt(fan-in), drawn tensor by tensor in layout order from one seeded stream.
 */
function tensors(shape: TinyLlamaShape, vocabSize: number, random: SeededRandom): GgufTensor[] {
  return tinyLlamaTensorLayout(shape, vocabSize).map(({ name, dims }) => {
    const count = dims.reduce((a, b) => a * b, 1);
    const data = new Float32Array(count);
    if (dims.length === 1) {
      data.fill(1);
    } else {
      const bound = 1 / Math.sqrt(dims[0] as number);
      for (let i = 0; i < count; i++) data[i] = random.uniform(bound);
    }
    return { name, dims, type: "F32", data };
  });
}

export interface TinyLlamaOptions {
  seed: number;
  shape?: TinyLlamaShape;
}

export function tinyLlamaGguf({ seed, shape = TINY_LLAMA_SHAPE }: TinyLlamaOptions): GgufFile {
  checkShape(shape);
  const vocab = byteLevelVocabulary();
  const u32 = (value: number): GgufValue => ({ type: "uint32", value });
  const f32 = (value: number): GgufValue => ({ type: "float32", value });
  const str = (value: string): GgufValue => ({ type: "string", value });
  const metadata: Array<readonly [string, GgufValue]> = [
    ["general.architecture", str("llama")],
    ["general.type", str("model")],
    ["general.name", str(`tiny-llama-seed-${seed}`)],
    [
      "general.description",
      str(
        `Random weights from seed ${seed} (no training): a real llama-architecture model for ` +
          "tests and demos of the inference path. Its output is random bytes.",
      ),
    ],
    ["general.file_type", u32(0)], // ALL_F32
    ["llama.vocab_size", u32(vocab.tokens.length)],
    ["llama.context_length", u32(shape.contextLength)],
    ["llama.embedding_length", u32(shape.embeddingLength)],
    ["llama.block_count", u32(shape.blockCount)],
    ["llama.feed_forward_length", u32(shape.feedForwardLength)],
    ["llama.attention.head_count", u32(shape.headCount)],
    ["llama.attention.head_count_kv", u32(shape.headCountKv)],
    ["llama.rope.dimension_count", u32(shape.embeddingLength / shape.headCount)],
    ["llama.rope.freq_base", f32(ROPE_FREQ_BASE)],
    ["llama.attention.layer_norm_rms_epsilon", f32(RMS_NORM_EPSILON)],
    ["tokenizer.ggml.model", str("gpt2")],
    // Qwen2's pre-tokenizer keeps spaces as they are on detokenization ("gpt-2" would drop
    // the space before punctuation), so text round-trips byte for byte.
    ["tokenizer.ggml.pre", str("qwen2")],
    ["tokenizer.ggml.tokens", { type: "array", itemType: "string", value: vocab.tokens }],
    ["tokenizer.ggml.token_type", { type: "array", itemType: "int32", value: vocab.tokenTypes }],
    // llama.cpp requires the key for a BPE vocabulary; with no merges every byte stays a token.
    ["tokenizer.ggml.merges", { type: "array", itemType: "string", value: [] }],
    ["tokenizer.ggml.bos_token_id", u32(ENDOFTEXT_ID)],
    ["tokenizer.ggml.eos_token_id", u32(IM_END_ID)],
    ["tokenizer.ggml.padding_token_id", u32(ENDOFTEXT_ID)],
    ["tokenizer.ggml.add_bos_token", { type: "bool", value: false }],
    ["tokenizer.chat_template", str(CHAT_TEMPLATE)],
  ];
  return {
    metadata,
    tensors: tensors(shape, vocab.tokens.length, new SeededRandom(seed)),
  };
}
