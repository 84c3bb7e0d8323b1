/**
 * A byte-level BPE vocabulary with no merges: token i (0..255) is byte i, written with GPT-2's
 * byte-to-unicode mapping as llama.cpp's "gpt2" tokenizer expects, so every UTF-8 text
 * tokenizes to one token per byte. Three ChatML control tokens follow, and a ChatML chat template.
 */

export const BYTE_TOKEN_COUNT = 256;

export const SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"] as const;

export const ENDOFTEXT_ID = BYTE_TOKEN_COUNT;
export const IM_START_ID = BYTE_TOKEN_COUNT + 1;
export const IM_END_ID = BYTE_TOKEN_COUNT + 2;

/** llama.cpp token types: 1 normal, 3 control. */
const TOKEN_TYPE_NORMAL = 1;
const TOKEN_TYPE_CONTROL = 3;

/** ChatML, as Qwen2-style models ship it (role and content between im_start and im_end). */
export const CHAT_TEMPLATE =
  "{% for message in messages %}" +
  "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}" +
  "{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

/**
 * GPT-2's bytes_to_unicode: printable Latin-1 bytes map to themselves, the other 68 bytes to
 * U+0100 onwards, so that no token text contains whitespace or control characters.
 */
export function byteToUnicode(): string[] {
  const printable = (b: number) =>
    (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const table: string[] = [];
  let next = 0;
  for (let b = 0; b < BYTE_TOKEN_COUNT; b++) {
    table.push(String.fromCodePoint(printable(b) ? b : BYTE_TOKEN_COUNT + next++));
  }
  return table;
}

export interface Vocabulary {
  tokens: string[];
  tokenTypes: number[];
}

export function byteLevelVocabulary(): Vocabulary {
  const tokens = [...byteToUnicode(), ...SPECIAL_TOKENS];
  const tokenTypes = tokens.map((_, id) =>
    id < BYTE_TOKEN_COUNT ? TOKEN_TYPE_NORMAL : TOKEN_TYPE_CONTROL,
  );
  return { tokens, tokenTypes };
}
