import type { Job } from "@gpu-market/common/src/escrow-types.ts";
import {
  type InferenceReceipt,
  ResponseSealer,
  type SealedRequest,
  sealRequest,
  sha256Hex,
  signReceipt,
} from "@gpu-market/protocol";
import { beforeAll, describe, expect, it } from "vitest";
import { checkDelivery, type ExpectedDelivery } from "../src/delivery.ts";
import { ESCROW, FakeChain } from "./support/fake-chain.ts";
import { type FakeMachine, fakeMachine, TINY } from "./support/fake-registry.ts";
import { type Answer, answer, delivered } from "./support/provider.ts";

let machine: FakeMachine;
let sealed: SealedRequest;
let job: Job;
let good: Answer;
let expected: ExpectedDelivery;

beforeAll(async () => {
  machine = fakeMachine(0, { price: "1000" });
  const chain = new FakeChain([machine]);
  const keyset = machine.machine as unknown as { keyset_sha256: string; encryption_key: string };
  sealed = await sealRequest(
    {
      escrow: ESCROW,
      client: chain.accountId,
      machine_id: "0",
      model: TINY.weights_sha256,
      keyset_sha256: keyset.keyset_sha256,
    },
    keyset.encryption_key,
    { model: TINY.name, messages: [{ role: "user", content: "Hi" }], max_tokens: 16 },
  );
  const created = await chain.call(
    ESCROW,
    "create_job",
    {
      machine_id: "0",
      model_hash: TINY.weights_sha256,
      input_hash: sealed.inputHash,
      keyset_sha256: keyset.keyset_sha256,
      accept_within_ns: "60000000000",
      deliver_within_ns: "60000000000",
    },
    { deposit: 10n ** 24n },
  );
  const requested = created.events[0]?.data[0] as Job;
  good = await answer(requested, ESCROW, sealed.envelope, machine.secrets, TINY.name);
  job = delivered(requested, good, chain.now);
  expected = {
    escrow: ESCROW,
    inputHash: sealed.inputHash,
    weightsSha256: TINY.weights_sha256,
    modelName: TINY.name,
    maxTokens: 16,
    responseKey: sealed.responseKey,
  };
});

/** The job and file after the machine signed a receipt with `changes` over `file`. */
function signed(file: Uint8Array, changes: Partial<InferenceReceipt> = {}) {
  const receipt = { ...good.receipt, response_sha256: sha256Hex(file), ...changes };
  const a: Answer = {
    ...good,
    file,
    receipt,
    signature: signReceipt(receipt, machine.secrets.signing),
  };
  return { job: delivered(job, a, 1n), file };
}

function flip(bytes: Uint8Array, at: number): Uint8Array {
  const out = new Uint8Array(bytes);
  out[at] = (out[at] ?? 0) ^ 1;
  return out;
}

describe("delivery check", () => {
  it("accepts the real delivery and decrypts the answer", () => {
    const verdict = checkDelivery(job, good.file, expected);
    expect(verdict).toMatchObject({ ok: true, text: "Hello, world.", finishReason: "stop" });
    if (verdict.ok) {
      expect(verdict.receipt).toEqual(good.receipt);
      expect(verdict.signature).toBe(good.signature);
    }
  });

  const tampered: [
    string,
    () => { job: Job; file: Uint8Array; expect?: ExpectedDelivery },
    RegExp,
  ][] = [
    [
      "the job's input_hash",
      () => ({ job: { ...job, input_hash: "00".repeat(32) }, file: good.file }),
      /input_hash .* is not the uploaded request's/,
    ],
    [
      "the job's model_hash",
      () => ({ job: { ...job, model_hash: "00".repeat(32) }, file: good.file }),
      /model_hash .* is not the model asked for/,
    ],
    [
      "the receipt's model name",
      () => ({ job: { ...job, model_name: "big-llama" }, file: good.file }),
      /names model big-llama, not tiny-llama/,
    ],
    [
      "the result hash",
      () => ({ job: { ...job, result_hash: "00".repeat(32) }, file: good.file }),
      /sha256 [0-9a-f]{64} is not the receipt's response_sha256 0{64}/,
    ],
    [
      "a byte of the response file",
      () => ({ job, file: flip(good.file, 40) }),
      /is not the receipt's response_sha256/,
    ],
    [
      "the signature",
      () => ({
        job: {
          ...job,
          signature: flip(Buffer.from(job.signature ?? "", "hex"), 3).reduce(
            (s, b) => s + b.toString(16).padStart(2, "0"),
            "",
          ),
        },
        file: good.file,
      }),
      /signature does not verify/,
    ],
    [
      "the machine key",
      () => ({
        job: { ...job, machine_public_key: fakeMachine(9).machine.machine_public_key },
        file: good.file,
      }),
      /signature does not verify with machine key/,
    ],
    [
      "the prompt tokens",
      () => ({ job: { ...job, prompt_tokens: "9000", usage: "9006" }, file: good.file }),
      /signature does not verify/,
    ],
    [
      "the completion tokens",
      () => ({ job: { ...job, completion_tokens: "7" }, file: good.file }),
      /signature does not verify/,
    ],
    [
      "the chunk count",
      () => ({ job: { ...job, chunks: "2" }, file: good.file }),
      /signature does not verify/,
    ],
    [
      "the usage",
      () => ({ job: { ...job, usage: "1000" }, file: good.file }),
      /usage 1000 is not prompt \+ completion tokens 18/,
    ],
    [
      "a missing signature",
      () => ({ job: { ...job, signature: null }, file: good.file }),
      /signature does not verify/,
    ],
    [
      "a missing model name",
      () => ({ job: { ...job, model_name: null }, file: good.file }),
      /has no model/,
    ],
  ];
  for (const [what, make, reason] of tampered) {
    it(`disputes when ${what} is tampered with`, () => {
      const { job: j, file } = make();
      const verdict = checkDelivery(j, file, expected);
      expect(verdict.ok).toBe(false);
      if (!verdict.ok) expect(verdict.reason).toMatch(reason);
    });
  }

  it("disputes a signed receipt billing more completion tokens than max_tokens", () => {
    const { job: j, file } = signed(good.file, { completion_tokens: "17" });
    const verdict = checkDelivery(j, file, expected);
    expect(verdict).toEqual({
      ok: false,
      reason: "the receipt bills 17 completion tokens, more than max_tokens 16",
    });
  });

  it("disputes a signed receipt whose chunk count is not the file's frame count", () => {
    const { job: j, file } = signed(good.file, { chunks: "4" });
    const verdict = checkDelivery(j, file, expected);
    expect(verdict).toEqual({ ok: false, reason: "the response has 3 frames, the receipt says 4" });
  });

  it("disputes a signed answer truncated before its final frame", () => {
    const truncated = new Uint8Array(Buffer.concat(good.frames.slice(0, 2)));
    const { job: j, file } = signed(truncated, { chunks: "2" });
    const verdict = checkDelivery(j, file, expected);
    expect(verdict.ok).toBe(false);
    if (!verdict.ok)
      expect(verdict.reason).toMatch(/does not decrypt: response: truncated after 2 frames/);
  });

  it("disputes a signed answer encrypted under another key (another job's answer)", () => {
    const sealer = new ResponseSealer(new Uint8Array(32).fill(7), sealed.inputHash);
    const other = sealer.seal({ content: "not yours", finish_reason: "stop" }, true);
    const { job: j, file } = signed(other, { chunks: "1" });
    const verdict = checkDelivery(j, file, expected);
    expect(verdict.ok).toBe(false);
    if (!verdict.ok) expect(verdict.reason).toMatch(/does not decrypt: frame 0: does not decrypt/);
  });
});
