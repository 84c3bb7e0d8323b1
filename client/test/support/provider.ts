/**
 * Plays the machine for unit tests with the real protocol: opens the client's envelope with the
 * machine's X25519 secret, seals an answer in frames, signs the receipt with the ed25519 secret,
 * and fills the job as deliver_job would.
 */
import type { Job } from "@gpu-market/common/src/escrow-types.ts";
import {
  type InferenceReceipt,
  type JobBinding,
  type MachineSecrets,
  openRequest,
  ResponseSealer,
  sha256Hex,
  signReceipt,
} from "@gpu-market/protocol";

export interface Answer {
  file: Uint8Array;
  frames: Uint8Array[];
  receipt: InferenceReceipt;
  signature: string;
}

export async function answer(
  job: Job,
  escrow: string,
  envelope: Uint8Array,
  secrets: MachineSecrets,
  modelName: string,
  parts: string[] = ["Hello", ", ", "world."],
): Promise<Answer> {
  const binding: JobBinding = {
    escrow,
    client: job.client,
    machine_id: job.machine_id,
    model: job.model_hash,
    keyset_sha256: job.keyset_sha256 ?? "",
  };
  const opened = await openRequest(binding, envelope, secrets.encryption);
  const sealer = new ResponseSealer(opened.responseKey, opened.inputHash);
  const frames = parts.map((content, i) =>
    sealer.seal(
      { content, finish_reason: i === parts.length - 1 ? "stop" : null },
      i === parts.length - 1,
    ),
  );
  const file = new Uint8Array(Buffer.concat(frames));
  const receipt: InferenceReceipt = {
    escrow,
    job_id: job.id,
    model: modelName,
    weights_sha256: job.model_hash,
    request_sha256: opened.inputHash,
    response_sha256: sha256Hex(file),
    prompt_tokens: "12",
    completion_tokens: String(parts.length * 2),
    chunks: String(frames.length),
  };
  return { file, frames, receipt, signature: signReceipt(receipt, secrets.signing) };
}

/** The job as the escrow stores it after deliver_job with `a`'s receipt. */
export function delivered(job: Job, a: Answer, now: bigint): Job {
  const usage = BigInt(a.receipt.prompt_tokens) + BigInt(a.receipt.completion_tokens);
  const due = usage * BigInt(job.price_per_unit);
  return {
    ...job,
    status: "delivered",
    accepted_at: now.toString(),
    deliver_deadline: (now + BigInt(job.deliver_within_ns)).toString(),
    result_hash: a.receipt.response_sha256,
    usage: usage.toString(),
    model_name: a.receipt.model,
    prompt_tokens: a.receipt.prompt_tokens,
    completion_tokens: a.receipt.completion_tokens,
    chunks: a.receipt.chunks,
    signature: a.signature,
    amount_due: (due < BigInt(job.max_amount) ? due : BigInt(job.max_amount)).toString(),
    delivered_at: now.toString(),
    dispute_deadline: (now + 86_400_000_000_000n).toString(),
  };
}
