/** ed25519 public keys as NEAR spells them: "ed25519:<base58 of 32 bytes>". */
import { decodeBase58 } from "./encoding.ts";
import { fail } from "./errors.ts";
import { requireString } from "./validate.ts";

const PREFIX = "ed25519:";

export function parseEd25519Key(
  value: unknown,
  field: string,
): { text: string; bytes: Uint8Array } {
  const text = requireString(value, field, PREFIX.length + 32, PREFIX.length + 44);
  if (!text.startsWith(PREFIX)) {
    fail(`${field}: expected "ed25519:<base58>", got "${text}"`);
  }
  const bytes = decodeBase58(text.slice(PREFIX.length), field);
  if (bytes.length !== 32) {
    fail(`${field}: an ed25519 key is 32 bytes, this one is ${bytes.length}`);
  }
  return { text, bytes };
}
