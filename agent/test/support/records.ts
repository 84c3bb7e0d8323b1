/** Journal records for tests that seed a data dir. */
import type { JobRecord, LocalState } from "../../src/store/journal.ts";

/** A job record in `state`, its last step at `lastStepAt` (ms), naming the given files. */
export function jobRecord(
  id: string,
  state: LocalState,
  lastStepAt: number,
  inputHash: string,
  responseSha256: string | null = null,
): JobRecord {
  return {
    id,
    machine_id: "0",
    client: "alice.test.near",
    model_hash: "ab".repeat(32),
    input_hash: inputHash,
    keyset_sha256: "cd".repeat(32),
    encryption_key: `x25519:${"11".repeat(32)}`,
    machine_public_key: "ed25519:11111111111111111111111111111111",
    accept_deadline: "0",
    deliver_deadline: null,
    state,
    envelope: true,
    failure_code: null,
    closed_reason: null,
    delivery:
      responseSha256 === null
        ? null
        : {
            receipt: {
              model: "tiny",
              weights_sha256: "ab".repeat(32),
              request_sha256: inputHash,
              response_sha256: responseSha256,
              prompt_tokens: "3",
              completion_tokens: "5",
              chunks: "1",
            },
            signature: "ed25519:sig",
          },
    times: { seen: lastStepAt - 60_000, [state]: lastStepAt },
  };
}
