import { voucherBytes } from "@gpu-market/common/src/inference-messages.ts";
import { ed25519 } from "@noble/curves/ed25519.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { describe, expect, it } from "vitest";
import { ProtocolError } from "../src/errors.ts";
import { encryptionPublicKey, generateMachineSecrets, signingPublicKey } from "../src/keys.ts";
import { openRequest, sealRequest } from "../src/request.ts";
import {
  chargedAfter,
  generateSessionKey,
  openSessionRequest,
  parseSignedVoucher,
  type SessionBinding,
  sealSessionRequest,
  sessionQuote,
  signSessionReceipt,
  signVoucher,
  verifySessionReceipt,
  verifyVoucher,
  voucherRefusal,
} from "../src/session.ts";

const binding: SessionBinding = {
  escrow: "escrow.test.near",
  client: "alice.test.near",
  machine_id: "3",
  model: "ab".repeat(32),
  keyset_sha256: "cd".repeat(32),
  session_id: "12",
};
const chat = {
  model: "tiny-llama",
  messages: [{ role: "user" as const, content: "the secret prompt: 42 bananas" }],
  max_tokens: 16,
};

async function rejectsWith(promise: Promise<unknown>, code: string): Promise<void> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ProtocolError);
  expect((error as ProtocolError).code).toBe(code);
}

describe("session requests (bound to the session)", () => {
  const machine = generateMachineSecrets();
  const key = encryptionPublicKey(machine.encryption);

  it("open inside the machine for the session they were sealed for, with the same response key", async () => {
    const sealed = await sealSessionRequest(binding, key, chat);
    const text = Buffer.from(sealed.envelope).toString();
    expect(text).not.toContain("bananas");
    expect(JSON.parse(text).version).toBe("gpumarket/v1/session-request");
    const opened = await openSessionRequest(binding, sealed.envelope, machine.encryption);
    expect(opened.request).toEqual(chat);
    expect(opened.requestId).toBe(sealed.requestId);
    expect(opened.inputHash).toBe(sealed.inputHash);
    expect(Buffer.from(opened.responseKey).equals(Buffer.from(sealed.responseKey))).toBe(true);
    // Both sides count the same bytes for the quote.
    expect(opened.requestBytes).toBe(sealed.requestBytes);
    expect(sealed.requestBytes).toBe(Buffer.byteLength(JSON.stringify(chat)));
  });

  for (const field of Object.keys(binding) as (keyof SessionBinding)[]) {
    it(`do not open for another ${field}`, async () => {
      const sealed = await sealSessionRequest(binding, key, chat);
      const other = { ...binding, [field]: field === "machine_id" ? "4" : `${binding[field]}x` };
      if (field === "session_id") other.session_id = "13";
      await rejectsWith(
        openSessionRequest(other, sealed.envelope, machine.encryption),
        "decrypt_failed",
      );
    });
  }

  it("a session request is not a job request, nor the other way round", async () => {
    const job = { ...binding } as Omit<SessionBinding, "session_id"> & { session_id?: string };
    delete job.session_id;
    const sessionSealed = await sealSessionRequest(binding, key, chat);
    await rejectsWith(openRequest(job, sessionSealed.envelope, machine.encryption), "bad_envelope");
    const jobSealed = await sealRequest(job, key, chat);
    await rejectsWith(
      openSessionRequest(binding, jobSealed.envelope, machine.encryption),
      "bad_envelope",
    );
  });

  it("do not open with another machine's key", async () => {
    const sealed = await sealSessionRequest(binding, key, chat);
    await rejectsWith(
      openSessionRequest(binding, sealed.envelope, generateMachineSecrets().encryption),
      "decrypt_failed",
    );
  });
});

describe("vouchers signed by the session's client key", () => {
  const client = generateSessionKey();
  const voucher = { escrow: "escrow.test.near", session_id: "12", amount: "5000", nonce: "3" };

  it("verify with the client key over exactly sha256(voucherBytes), as the escrow checks", () => {
    const signature = signVoucher(voucher, client.secret);
    expect(signature).toMatch(/^[0-9a-f]{128}$/);
    expect(verifyVoucher(voucher, signature, client.publicKey)).toBe(true);
    // The same bytes the contract verifies: ed25519 over sha256 of the canonical voucher.
    const raw = ed25519.verify(
      Buffer.from(signature, "hex"),
      sha256(voucherBytes(voucher)),
      ed25519.getPublicKey(client.secret),
    );
    expect(raw).toBe(true);
  });

  it("fail for a wrong key, another session, escrow, amount or nonce, and junk signatures", () => {
    const signature = signVoucher(voucher, client.secret);
    expect(verifyVoucher(voucher, signature, generateSessionKey().publicKey)).toBe(false);
    for (const change of [
      { session_id: "13" },
      { escrow: "other.test.near" },
      { amount: "5001" },
      { nonce: "4" },
    ]) {
      expect(verifyVoucher({ ...voucher, ...change }, signature, client.publicKey)).toBe(false);
    }
    expect(verifyVoucher(voucher, "00", client.publicKey)).toBe(false);
    expect(verifyVoucher(voucher, signature, "ed25519:notbase58!")).toBe(false);
  });

  it("parse with errors naming the field", () => {
    const signature = signVoucher(voucher, client.secret);
    expect(parseSignedVoucher({ amount: "5", nonce: "1", signature }, "voucher")).toEqual({
      amount: "5",
      nonce: "1",
      signature,
    });
    const bad: [unknown, string][] = [
      [null, "voucher: expected {amount, nonce, signature}"],
      [{ amount: "5", nonce: "1", signature, extra: 1 }, 'unknown field "extra"'],
      [{ amount: 5, nonce: "1", signature }, "voucher.amount"],
      [{ amount: "05", nonce: "1", signature }, "voucher.amount"],
      [{ amount: (1n << 128n).toString(), nonce: "1", signature }, "voucher.amount"],
      [{ amount: "5", nonce: "-1", signature }, "voucher.nonce"],
      [{ amount: "5", nonce: (1n << 64n).toString(), signature }, "voucher.nonce"],
      [{ amount: "5", nonce: "1", signature: signature.toUpperCase() }, "voucher.signature"],
    ];
    for (const [value, message] of bad) {
      expect(() => parseSignedVoucher(value, "voucher")).toThrow(message);
    }
  });
});

describe("the voucher rule: fresh nonce, within budget, covering charged + quote", () => {
  const state = { budget: 1000n, charged: 300n, nonce: 4n };

  it("accepts a voucher that covers charged + quote with a higher nonce", () => {
    expect(voucherRefusal(state, { amount: "400", nonce: "5" }, 100n)).toBeNull();
    expect(voucherRefusal(state, { amount: "1000", nonce: "99" }, 100n)).toBeNull();
    // A closing voucher (quote 0) for exactly what was charged.
    expect(voucherRefusal(state, { amount: "300", nonce: "5" }, 0n)).toBeNull();
  });

  it("refuses a replayed or stale nonce before anything else", () => {
    expect(voucherRefusal(state, { amount: "400", nonce: "4" }, 100n)?.code).toBe("stale_nonce");
    expect(voucherRefusal(state, { amount: "5000", nonce: "1" }, 100n)?.code).toBe("stale_nonce");
  });

  it("refuses an amount over the budget, or short of charged + quote", () => {
    expect(voucherRefusal(state, { amount: "1001", nonce: "5" }, 0n)?.code).toBe("over_budget");
    const low = voucherRefusal(state, { amount: "399", nonce: "5" }, 100n);
    expect(low).toEqual({
      code: "voucher_too_low",
      message: "voucher amount 399 does not cover charged 300 + quote 100 = 400",
    });
  });
});

describe("quote and charge", () => {
  it("the quote is price x (request JSON bytes + max_tokens)", () => {
    expect(sessionQuote(7n, 100, 16)).toBe(7n * 116n);
    expect(sessionQuote(0n, 100, 16)).toBe(0n);
    expect(() => sessionQuote(1n, -1, 16)).toThrow("request bytes");
    expect(() => sessionQuote(1n, 1, 1.5)).toThrow("max_tokens");
  });

  it("charged grows by the tokens used at the price, never past the voucher", () => {
    expect(chargedAfter(100n, 2n, 10n, 5n, 1000n)).toBe(130n);
    expect(chargedAfter(100n, 2n, 10n, 5n, 120n)).toBe(120n);
  });
});

describe("session receipts signed by the machine key", () => {
  const machine = generateMachineSecrets();
  const key = signingPublicKey(machine.signing);
  const receipt = {
    escrow: "escrow.test.near",
    session_id: "12",
    request_id: "ef".repeat(32),
    model: "tiny-llama",
    weights_sha256: "ab".repeat(32),
    request_sha256: "cd".repeat(32),
    response_sha256: "01".repeat(32),
    prompt_tokens: "30",
    completion_tokens: "16",
    charged: "460",
    nonce: "5",
  };

  it("verify for the machine key, and not once any field changes", () => {
    const signature = signSessionReceipt(receipt, machine.signing);
    expect(verifySessionReceipt(receipt, signature, key)).toBe(true);
    for (const field of Object.keys(receipt) as (keyof typeof receipt)[]) {
      const changed = { ...receipt, [field]: `${receipt[field]}0` };
      expect(verifySessionReceipt(changed, signature, key)).toBe(false);
    }
    expect(
      verifySessionReceipt(receipt, signature, signingPublicKey(generateMachineSecrets().signing)),
    ).toBe(false);
  });

  it("a voucher signature is no receipt signature (different documents)", () => {
    const voucher = { escrow: "escrow.test.near", session_id: "12", amount: "460", nonce: "5" };
    const signature = signVoucher(voucher, machine.signing);
    expect(verifySessionReceipt(receipt, signature, key)).toBe(false);
  });
});
