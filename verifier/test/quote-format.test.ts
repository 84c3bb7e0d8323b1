import { describe, expect, test } from "vitest";
import { checkEvidence } from "../src/check.ts";
import { VerificationError } from "../src/errors.ts";
import { DEFAULT_POLICY } from "../src/policy.ts";
import { parseTdxQuote } from "../src/tdx/quote.ts";
import { collateral, NOW, quote, rootCa, v5Quote } from "./fixtures.ts";

function parseError(bytes: Uint8Array): VerificationError {
  try {
    parseTdxQuote(bytes);
  } catch (error) {
    if (error instanceof VerificationError) {
      return error;
    }
    throw error;
  }
  throw new Error("the quote unexpectedly parsed");
}

/** A copy of `bytes` with a little-endian u16 or u32 written at `offset`. */
function withField(bytes: Uint8Array, offset: number, value: number, size: 2 | 4): Uint8Array {
  const copy = bytes.slice();
  const view = new DataView(copy.buffer);
  if (size === 2) {
    view.setUint16(offset, value, true);
  } else {
    view.setUint32(offset, value, true);
  }
  return copy;
}

// Header: version u16 @0, attestation key type u16 @2, TEE type u32 @4; version 5 body
// descriptor: type u16 @48, size u32 @50.
describe("a quote this verifier cannot read is refused with what was read and what is supported", () => {
  test.each([
    [
      3,
      "quote version 3 (an SGX quote) is not supported (supported: TDX quotes of version 4 and 5)",
    ],
    [6, "quote version 6 is not supported (supported: TDX quotes of version 4 and 5)"],
  ])("version %i", (version, message) => {
    const error = parseError(withField(quote(), 0, version, 2));
    expect(error.code).toBe("unsupported_quote");
    expect(error.message).toBe(message);
  });

  test.each([
    [0x00, "TEE type 0x00 (SGX) is not supported (supported: 0x81, TDX)"],
    [0x7f, "TEE type 0x7f is not supported (supported: 0x81, TDX)"],
  ])("TEE type %i", (teeType, message) => {
    expect(parseError(withField(v5Quote("upToDate"), 4, teeType, 4)).message).toBe(message);
  });

  test.each([
    [
      3,
      "attestation key type 3 (ECDSA-384 with P-384) is not supported (supported: 2, ECDSA-256 with P-256)",
    ],
    [0, "attestation key type 0 (EPID) is not supported (supported: 2, ECDSA-256 with P-256)"],
  ])("attestation key type %i", (keyType, message) => {
    expect(parseError(withField(quote(), 2, keyType, 2)).message).toBe(message);
  });

  test("a version 5 body type other than a TD report", () => {
    const error = parseError(withField(v5Quote("upToDate"), 48, 1, 2));
    expect(error.code).toBe("unsupported_quote");
    expect(error.message).toBe(
      "quote version 5: body type 1 (SGX enclave report) is not supported " +
        "(supported: 2, TD report 1.0, and 3, TD report 1.5)",
    );
  });

  test("a version 5 body whose size is not its type's", () => {
    const error = parseError(withField(v5Quote("upToDate"), 50, 584, 4));
    expect(error.code).toBe("malformed_quote");
    expect(error.message).toBe(
      "quote version 5: body type 3 (TD report 1.5) declares 584 bytes, expected 648",
    );
  });

  test("a truncated version 5 quote names the field that ran out", () => {
    const error = parseError(v5Quote("upToDate").subarray(0, 54 + 600));
    expect(error.code).toBe("malformed_quote");
    expect(error.message).toBe(
      "quote: report.mr_service_td needs 48 bytes at offset 654, only 0 left",
    );
  });

  test("certification data other than the QE report's", () => {
    // Version 4: header 48, TD report 584, signature data length 4, signature 64, key 64.
    const error = parseError(withField(quote(), 48 + 584 + 4 + 128, 5, 2));
    expect(error.message).toBe(
      "certification data type 5 is not supported (supported: 6, QE report certification data)",
    );
  });

  test("bare evidence that is no quote at all: the verdict says what its header reads as", async () => {
    const trust = {
      rootCa: rootCa(),
      collateral: async () => collateral(),
      nvidiaJwks: null,
      now: NOW,
    };
    const context = { teeType: "tdx" as const, reportData: null, nonce: null };
    const sgx = await checkEvidence(withField(quote(), 0, 3, 2), context, trust, DEFAULT_POLICY);
    expect(sgx.approve).toBe(false);
    expect(sgx.reason).toBe(
      "unsupported_quote: quote version 3 (an SGX quote) is not supported (supported: TDX quotes of version 4 and 5)",
    );
    // Its first two bytes, '{"', read as a little-endian u16: 0x227b, 8827.
    const json = new TextEncoder().encode('{"quote":"..."}');
    const text = await checkEvidence(json, context, trust, DEFAULT_POLICY);
    expect(text.reason).toBe(
      "unsupported_quote: quote version 8827 is not supported (supported: TDX quotes of version 4 and 5)",
    );
  });
});
