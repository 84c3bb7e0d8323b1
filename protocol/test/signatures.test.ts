import { describe, expect, it } from "vitest";
import { encryptionPublicKey, generateMachineSecrets, signingPublicKey } from "../src/keys.ts";
import { keysetSha256, reportDataHex } from "../src/keyset.ts";
import { signFailure, signReceipt, verifyFailure, verifyReceipt } from "../src/signatures.ts";

const receipt = {
  escrow: "escrow.test.near",
  job_id: "7",
  model: "tiny-llama",
  weights_sha256: "ab".repeat(32),
  request_sha256: "cd".repeat(32),
  response_sha256: "ef".repeat(32),
  prompt_tokens: "12",
  completion_tokens: "30",
  chunks: "3",
};

describe("receipts and failures signed by the machine key", () => {
  const machine = generateMachineSecrets();
  const key = signingPublicKey(machine.signing);

  it("verify for the machine key and nothing else", () => {
    const signature = signReceipt(receipt, machine.signing);
    expect(verifyReceipt(receipt, signature, key)).toBe(true);
    expect(verifyReceipt({ ...receipt, completion_tokens: "31" }, signature, key)).toBe(false);
    expect(
      verifyReceipt(receipt, signature, signingPublicKey(generateMachineSecrets().signing)),
    ).toBe(false);
    expect(verifyReceipt(receipt, "00", key)).toBe(false);
  });

  it("a failure signature is not a receipt signature", () => {
    const notice = { escrow: "escrow.test.near", job_id: "7", code: "capacity" as const };
    const signature = signFailure(notice, machine.signing);
    expect(verifyFailure(notice, signature, key)).toBe(true);
    expect(verifyFailure({ ...notice, code: "bad_request" }, signature, key)).toBe(false);
    expect(verifyReceipt(receipt, signature, key)).toBe(false);
  });

  it("REPORTDATA carries the keyset digest then the nonce", () => {
    const keyset = {
      account: "alice.test.near",
      registry: "registry.test.near",
      signing_key: key,
      encryption_key: encryptionPublicKey(machine.encryption),
      models: [{ name: "tiny-llama", weights_sha256: "ab".repeat(32) }],
    };
    expect(reportDataHex(keyset, "07".repeat(32))).toBe(keysetSha256(keyset) + "07".repeat(32));
  });
});
