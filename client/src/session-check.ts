/**
 * The client's check of a session answer before it counts it: the receipt must be signed by the
 * machine key the session snapshotted and name this escrow, session, request id and envelope, the
 * model asked for, the hash of exactly the frames received and the voucher's nonce; its token
 * counts must fit max_tokens, and `charged` must be what was charged before plus the tokens at
 * the session's price (capped at the voucher's amount); the frames must decrypt, in order, to a
 * final one. Any failure is a reason to stop paying this session.
 */
import {
  chargedAfter,
  type SessionReceipt,
  sha256Hex,
  verifySessionReceipt,
} from "@gpu-market/protocol";

export interface ExpectedAnswer {
  escrow: string;
  sessionId: string;
  requestId: string;
  inputHash: string;
  weightsSha256: string;
  modelName: string;
  maxTokens: number;
  machinePublicKey: string;
  pricePerUnit: bigint;
  chargedBefore: bigint;
  voucherAmount: bigint;
  nonce: string;
}

const U64 = /^(0|[1-9][0-9]{0,19})$/;
const FIELDS: (keyof SessionReceipt)[] = [
  "escrow",
  "session_id",
  "request_id",
  "model",
  "weights_sha256",
  "request_sha256",
  "response_sha256",
  "prompt_tokens",
  "completion_tokens",
  "charged",
  "nonce",
];

/** The receipt line's {receipt, signature}, or why it is not one. */
export function parseReceiptLine(
  value: unknown,
): { receipt: SessionReceipt; signature: string } | string {
  const line = value as { receipt?: Record<string, unknown>; signature?: unknown } | null;
  if (typeof line?.receipt !== "object" || line.receipt === null) return "no receipt";
  if (typeof line.signature !== "string") return "the receipt has no signature";
  const receipt = {} as Record<string, string>;
  for (const field of FIELDS) {
    const text = line.receipt[field];
    if (typeof text !== "string") return `the receipt's ${field} is not a string`;
    receipt[field] = text;
  }
  return { receipt: receipt as unknown as SessionReceipt, signature: line.signature };
}

/** Null when the receipt checks out against what was asked and the frames received. */
export function receiptProblem(
  receipt: SessionReceipt,
  signature: string,
  frames: Uint8Array,
  expected: ExpectedAnswer,
): string | null {
  if (!verifySessionReceipt(receipt, signature, expected.machinePublicKey)) {
    return `the receipt's signature does not verify with machine key ${expected.machinePublicKey}`;
  }
  const same: [keyof SessionReceipt, string][] = [
    ["escrow", expected.escrow],
    ["session_id", expected.sessionId],
    ["request_id", expected.requestId],
    ["request_sha256", expected.inputHash],
    ["weights_sha256", expected.weightsSha256],
    ["model", expected.modelName],
    ["nonce", expected.nonce],
    ["response_sha256", sha256Hex(frames)],
  ];
  for (const [field, value] of same) {
    if (receipt[field] !== value) return `the receipt's ${field} ${receipt[field]} is not ${value}`;
  }
  for (const field of ["prompt_tokens", "completion_tokens", "charged"] as const) {
    if (
      !/^(0|[1-9][0-9]*)$/.test(receipt[field]) ||
      (field !== "charged" && !U64.test(receipt[field]))
    ) {
      return `the receipt's ${field} "${receipt[field]}" is not a count`;
    }
  }
  if (BigInt(receipt.completion_tokens) > BigInt(expected.maxTokens)) {
    return `the receipt bills ${receipt.completion_tokens} completion tokens, more than max_tokens ${expected.maxTokens}`;
  }
  const charged = chargedAfter(
    expected.chargedBefore,
    expected.pricePerUnit,
    BigInt(receipt.prompt_tokens),
    BigInt(receipt.completion_tokens),
    expected.voucherAmount,
  );
  if (BigInt(receipt.charged) !== charged) {
    return `the receipt charges ${receipt.charged}, not ${expected.chargedBefore} + (${receipt.prompt_tokens} + ${receipt.completion_tokens}) x ${expected.pricePerUnit} = ${charged}`;
  }
  return null;
}
