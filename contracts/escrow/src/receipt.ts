/**
 * deliver_job's receipt argument: the fields the machine key signed besides the escrow and the job
 * id (common/src/inference-messages.ts builds the signed document). Host-independent, so
 * unit-tested in Node.
 */

import { fail } from "../../common/src/errors.ts";
import type { DeliveryReceipt } from "../../common/src/escrow-types.ts";
import { parseModels } from "../../common/src/inference-messages.ts";
import { parseU64 } from "../../common/src/u128.ts";
import {
  requireHex,
  requireObject,
  requireOnlyKeys,
  requireString,
} from "../../common/src/validate.ts";

export const RECEIPT_FIELDS = [
  "model",
  "weights_sha256",
  "request_sha256",
  "response_sha256",
  "prompt_tokens",
  "completion_tokens",
  "chunks",
] as const;

/** A model name by the rule of the attested model lists (parseModels), so both spell names alike. */
function parseModelName(value: unknown, field: string): string {
  const name = requireString(value, field, 1, 64);
  try {
    parseModels([{ name, weights_sha256: "0".repeat(64) }], field);
  } catch {
    fail(
      `${field}: "${name}" is not a model name (a letter or digit, then letters, digits and . _ : / -; at most 64)`,
    );
  }
  return name;
}

/** Decimal u64 as given (parseU64 accepts only the canonical spelling, which is what was signed). */
function u64Text(value: unknown, field: string): string {
  return parseU64(value, field).toString();
}

export function parseReceipt(value: unknown): DeliveryReceipt {
  const receipt = requireObject(value, "receipt");
  requireOnlyKeys(receipt, "receipt", RECEIPT_FIELDS);
  return {
    model: parseModelName(receipt.model, "receipt.model"),
    weights_sha256: requireHex(receipt.weights_sha256, "receipt.weights_sha256", 32, 32),
    request_sha256: requireHex(receipt.request_sha256, "receipt.request_sha256", 32, 32),
    response_sha256: requireHex(receipt.response_sha256, "receipt.response_sha256", 32, 32),
    prompt_tokens: u64Text(receipt.prompt_tokens, "receipt.prompt_tokens"),
    completion_tokens: u64Text(receipt.completion_tokens, "receipt.completion_tokens"),
    chunks: u64Text(receipt.chunks, "receipt.chunks"),
  };
}

/** What the job is paid for: prompt plus completion tokens. */
export function receiptUsage(receipt: DeliveryReceipt): bigint {
  return BigInt(receipt.prompt_tokens) + BigInt(receipt.completion_tokens);
}
