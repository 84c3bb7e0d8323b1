/**
 * What ties a request to one job: the escrow, the client, the machine, the model's weights, the
 * attested keyset the client encrypted to, and a random request id. HPKE's `info` and the AEAD's
 * associated data are built from it, so a ciphertext opens only for the job it was sealed for:
 * another client's job, another machine, model or keyset fails to decrypt.
 */
import { canonicalBytes } from "@gpu-market/common/src/canonical-json.ts";
import { utf8 } from "./bytes.ts";

export const REQUEST_INFO_DOMAIN = "gpumarket/v1/request";
export const JOB_METADATA_VERSION = "gpumarket/v1/job-metadata";

export interface JobBinding {
  escrow: string;
  client: string;
  machine_id: string;
  /** sha256 of the model's weights: the job's model_hash. */
  model: string;
  keyset_sha256: string;
}

/** HPKE info: "gpumarket/v1/request" 0x00 escrow 0x00 client 0x00 request_id. */
export function requestInfo(binding: JobBinding, requestId: string): Uint8Array {
  return utf8.encode(
    [REQUEST_INFO_DOMAIN, binding.escrow, binding.client, requestId].join("\u0000"),
  );
}

/** The AEAD's associated data: the canonical job metadata. */
export function jobMetadata(binding: JobBinding, requestId: string): Uint8Array {
  return canonicalBytes({
    version: JOB_METADATA_VERSION,
    escrow: binding.escrow,
    client: binding.client,
    machine_id: binding.machine_id,
    model: binding.model,
    keyset_sha256: binding.keyset_sha256,
    request_id: requestId,
  });
}
