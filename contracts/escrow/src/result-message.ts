/**
 * The bytes a machine signs to deliver a result. The machine's ed25519 key signs
 * sha256(preimage), where the preimage is the ASCII of
 *   "gpumarket/v1/result" 0x00 escrow_account 0x00 job_id 0x00 result_hash 0x00 usage
 * (job_id and usage as decimal strings, result_hash as 64 lowercase hex digits). Naming the escrow
 * and the job makes a signature useless for any other job or escrow deployment.
 * Host-independent (the hash is taken by the caller), so unit-tested in Node.
 */
import { asciiBytes, concatBytes } from "../../common/src/encoding.ts";

export const RESULT_DOMAIN = "gpumarket/v1/result";

export function resultPreimage(
  escrowAccount: string,
  jobId: string,
  resultHash: string,
  usage: string,
): Uint8Array {
  const zero = new Uint8Array([0]);
  return concatBytes(
    asciiBytes(RESULT_DOMAIN),
    zero,
    asciiBytes(escrowAccount),
    zero,
    asciiBytes(jobId),
    zero,
    asciiBytes(resultHash),
    zero,
    asciiBytes(usage),
  );
}
