/**
 * Receipts and failure notices signed by the machine's ed25519 key. The signature is over
 * sha256 of the canonical bytes (contracts/common/src/inference-messages.ts), exactly what the
 * escrow verifies on-chain; hex-encoded as the escrow takes it.
 */
import {
  type FailureNotice,
  failureBytes,
  type InferenceReceipt,
  receiptBytes,
} from "@gpu-market/common/src/inference-messages.ts";
import { ed25519 } from "@noble/curves/ed25519.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { fromHex, toHex } from "./bytes.ts";
import { parseSigningKey } from "./keys.ts";

export function signReceipt(receipt: InferenceReceipt, signingSecret: Uint8Array): string {
  return toHex(ed25519.sign(sha256(receiptBytes(receipt)), signingSecret));
}

export function signFailure(notice: FailureNotice, signingSecret: Uint8Array): string {
  return toHex(ed25519.sign(sha256(failureBytes(notice)), signingSecret));
}

function verify(message: Uint8Array, signatureHex: string, signingKey: string): boolean {
  try {
    return ed25519.verify(
      fromHex(signatureHex, "signature", 64),
      sha256(message),
      parseSigningKey(signingKey, "signing_key"),
    );
  } catch {
    return false;
  }
}

export function verifyReceipt(
  receipt: InferenceReceipt,
  signatureHex: string,
  signingKey: string,
): boolean {
  return verify(receiptBytes(receipt), signatureHex, signingKey);
}

export function verifyFailure(
  notice: FailureNotice,
  signatureHex: string,
  signingKey: string,
): boolean {
  return verify(failureBytes(notice), signatureHex, signingKey);
}
