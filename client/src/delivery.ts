/**
 * The client's check of a delivered job before it confirms: the response file must be the one the
 * receipt names (sha256 = the job's result_hash), the receipt must be the job's (its model weights,
 * its request envelope), signed by the machine key the job snapshotted, its usage the sum of its
 * token counts with no more completion tokens than asked for, and the file must decrypt, frame by
 * frame, to exactly as many chunks as the receipt says. Any failure is a reason to dispute.
 */
import type { Job } from "@gpu-market/common/src/escrow-types.ts";
import {
  type InferenceReceipt,
  openResponse,
  sha256Hex,
  verifyReceipt,
} from "@gpu-market/protocol";
import { messageOf } from "./errors.ts";

export interface ExpectedDelivery {
  escrow: string;
  /** sha256 of the envelope the client uploaded. */
  inputHash: string;
  /** The model asked for: its weights and the name the machine lists them under. */
  weightsSha256: string;
  modelName: string;
  maxTokens: number;
  responseKey: Uint8Array;
}

export type DeliveryVerdict =
  | {
      ok: true;
      receipt: InferenceReceipt;
      signature: string;
      text: string;
      finishReason: string | null;
    }
  | { ok: false; reason: string };

const U64 = /^(0|[1-9][0-9]{0,19})$/;

function receiptOf(escrow: string, job: Job): InferenceReceipt | string {
  const fields = {
    model: job.model_name,
    response_sha256: job.result_hash,
    prompt_tokens: job.prompt_tokens,
    completion_tokens: job.completion_tokens,
    chunks: job.chunks,
  };
  for (const [name, value] of Object.entries(fields)) {
    if (value === null) return `the delivered job has no ${name}`;
  }
  return {
    escrow,
    job_id: job.id,
    model: job.model_name as string,
    weights_sha256: job.model_hash,
    request_sha256: job.input_hash,
    response_sha256: job.result_hash as string,
    prompt_tokens: job.prompt_tokens as string,
    completion_tokens: job.completion_tokens as string,
    chunks: job.chunks as string,
  };
}

export function checkDelivery(
  job: Job,
  file: Uint8Array,
  expected: ExpectedDelivery,
): DeliveryVerdict {
  const no = (reason: string): DeliveryVerdict => ({ ok: false, reason });
  if (job.input_hash !== expected.inputHash) {
    return no(
      `the job's input_hash ${job.input_hash} is not the uploaded request's ${expected.inputHash}`,
    );
  }
  if (job.model_hash !== expected.weightsSha256) {
    return no(
      `the job's model_hash ${job.model_hash} is not the model asked for ${expected.weightsSha256}`,
    );
  }
  const receipt = receiptOf(expected.escrow, job);
  if (typeof receipt === "string") return no(receipt);
  if (receipt.model !== expected.modelName) {
    return no(`the receipt names model ${receipt.model}, not ${expected.modelName}`);
  }
  const fileSha256 = sha256Hex(file);
  if (fileSha256 !== receipt.response_sha256) {
    return no(
      `the response file's sha256 ${fileSha256} is not the receipt's response_sha256 ${receipt.response_sha256}`,
    );
  }
  if (job.signature === null || !verifyReceipt(receipt, job.signature, job.machine_public_key)) {
    return no(`the receipt's signature does not verify with machine key ${job.machine_public_key}`);
  }
  for (const field of ["prompt_tokens", "completion_tokens", "chunks"] as const) {
    if (!U64.test(receipt[field]))
      return no(`the receipt's ${field} "${receipt[field]}" is not a u64`);
  }
  const usage = BigInt(receipt.prompt_tokens) + BigInt(receipt.completion_tokens);
  if (job.usage !== usage.toString()) {
    return no(`the job's usage ${job.usage} is not prompt + completion tokens ${usage}`);
  }
  if (BigInt(receipt.completion_tokens) > BigInt(expected.maxTokens)) {
    return no(
      `the receipt bills ${receipt.completion_tokens} completion tokens, more than max_tokens ${expected.maxTokens}`,
    );
  }
  let opened: ReturnType<typeof openResponse>;
  try {
    opened = openResponse(file, expected.responseKey, expected.inputHash);
  } catch (error) {
    return no(`the response does not decrypt: ${messageOf(error)}`);
  }
  if (String(opened.frames) !== receipt.chunks) {
    return no(`the response has ${opened.frames} frames, the receipt says ${receipt.chunks}`);
  }
  return {
    ok: true,
    receipt,
    signature: job.signature,
    text: opened.content,
    finishReason: opened.finishReason,
  };
}
