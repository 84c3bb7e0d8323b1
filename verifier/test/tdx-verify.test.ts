import { describe, expect, test } from "vitest";
import { VerificationError } from "../src/errors.ts";
import { parsePemChain } from "../src/tdx/certs.ts";
import type { Collateral } from "../src/tdx/collateral.ts";
import { parseTdxQuote } from "../src/tdx/quote.ts";
import { verifyTdxQuote } from "../src/tdx/verify.ts";
import { X509CertificateGenerator } from "../src/tdx/x509.ts";
import { collateral, NOW, QUOTE_MRTD, QUOTE_REPORT_DATA, quote, rootCa } from "./fixtures.ts";

async function failure(
  bytes: Uint8Array,
  options: { col?: Collateral; now?: Date; root?: Uint8Array } = {},
): Promise<VerificationError> {
  try {
    await verifyTdxQuote(bytes, options.col ?? collateral(), {
      rootCa: options.root ?? rootCa(),
      now: options.now ?? NOW,
    });
  } catch (error) {
    if (error instanceof VerificationError) {
      return error;
    }
    throw error;
  }
  throw new Error("verification unexpectedly passed");
}

function flipBit(bytes: Uint8Array, offset: number): Uint8Array {
  const copy = bytes.slice();
  copy[offset] = (copy[offset] ?? 0) ^ 0x01;
  return copy;
}

// Offsets in the fixture: header 48 bytes, TD report 584, signature data length 4.
const QUOTE_SIGNATURE = 48 + 584 + 4;
const QE_REPORT = QUOTE_SIGNATURE + 64 + 64 + 2 + 4;
const QE_REPORT_SIGNATURE = QE_REPORT + 384;

describe("TDX quote version 4 verification with the real fixture", () => {
  test("verifies with status UpToDate inside the collateral's validity window", async () => {
    const result = await verifyTdxQuote(quote(), collateral(), { rootCa: rootCa(), now: NOW });
    expect(result.status).toBe("UpToDate");
    expect(result.advisoryIds).toEqual([]);
    expect(result.td.mrtd).toBe(QUOTE_MRTD);
    expect(result.td.report_data).toBe(QUOTE_REPORT_DATA);
    expect(result.debug).toBe(false);
    expect(result.platform).toMatchObject({
      fmspc: "b0c06f000000",
      pceId: "0000",
      pceSvn: 11,
      platformStatus: "UpToDate",
      tdxModuleStatus: "UpToDate",
      qeStatus: "UpToDate",
      tcbEvaluationDataNumber: 17,
    });
    expect(result.checks).toContain("quote signature over header and TD report verified");
    expect(result.checks[0]).toBe("quote parsed: version 4, TD report 1.0, ECDSA P-256, TDX");
    expect(result.quote).toEqual({ version: 4, bodyType: 2 });
  });

  test("parses the TD report fields and the QE report", () => {
    const q = parseTdxQuote(quote());
    expect(q.header.teeType).toBe(0x81);
    expect(Buffer.from(q.report.teeTcbSvn).toString("hex")).toBe(
      "06010300000000000000000000000000",
    );
    expect(q.qeReport.isvSvn).toBe(6);
    expect(q.qeReport.isvProdId).toBe(2);
    expect(parsePemChain(q.pckChainPem, "chain")).toHaveLength(3);
  });

  test("one bit flipped in the TD report body (MRTD) fails the quote signature", async () => {
    const error = await failure(flipBit(quote(), 48 + 136 + 5));
    expect(error.code).toBe("quote_signature_invalid");
    expect(error.message).toMatch(/quote signature does not verify over the header and TD report/);
  });

  test("one bit flipped in REPORTDATA fails the quote signature", async () => {
    const error = await failure(flipBit(quote(), 48 + 520));
    expect(error.code).toBe("quote_signature_invalid");
  });

  test("one bit flipped in the quote signature fails it", async () => {
    const error = await failure(flipBit(quote(), QUOTE_SIGNATURE + 10));
    expect(error.code).toBe("quote_signature_invalid");
  });

  test("one bit flipped in the QE report signature fails it", async () => {
    const error = await failure(flipBit(quote(), QE_REPORT_SIGNATURE + 3));
    expect(error.code).toBe("qe_report_signature_invalid");
    expect(error.message).toMatch(/PCK certificate's key/);
  });

  test("one bit flipped in the QE report body fails its signature", async () => {
    const error = await failure(flipBit(quote(), QE_REPORT + 256));
    expect(error.code).toBe("qe_report_signature_invalid");
  });

  test("a changed attestation key breaks the QE report binding", async () => {
    const error = await failure(flipBit(quote(), QUOTE_SIGNATURE + 64 + 7));
    expect(error.code).toBe("qe_report_data_mismatch");
    expect(error.message).toMatch(/sha256\(attestation key \|\| QE auth data\)/);
  });

  test("one bit flipped in the PCK leaf certificate fails its signature", async () => {
    const bytes = quote();
    const q = parseTdxQuote(bytes);
    const pem = q.pckChainPem;
    const firstPem = pem.slice(0, pem.indexOf("-----END CERTIFICATE-----"));
    const body = firstPem.replace("-----BEGIN CERTIFICATE-----", "").replace(/\s+/g, "");
    const der = Buffer.from(body, "base64");
    // Flip a bit in the subject's "Intel SGX PCK Certificate" common name (inside the signed TBS).
    const at = der.lastIndexOf(Buffer.from("PCK Certificate"));
    der[at] = (der[at] ?? 0) ^ 0x01;
    const lines =
      der
        .toString("base64")
        .match(/.{1,64}/g)
        ?.join("\n") ?? "";
    const tampered = `-----BEGIN CERTIFICATE-----\n${lines}\n`;
    const original = `${firstPem}`;
    expect(tampered.length).toBe(original.length);
    const text = Buffer.from(bytes).toString("latin1").replace(original, tampered);
    const error = await failure(new Uint8Array(Buffer.from(text, "latin1")));
    expect(error.code).toBe("certificate_signature_invalid");
    expect(error.message).toMatch(
      /PCK certificate chain: the signature of CN=Intel SGX QCK Certificate \(serial 3c16ed54eacbb4ced072be72630c85788cf46e36\) does not verify with the key of CN=Intel SGX PCK Platform CA/,
    );
  });

  test("a chain that does not end in the trusted root is refused", async () => {
    // A self-signed look-alike of Intel's root: same name, another key.
    const keys = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, [
      "sign",
      "verify",
    ]);
    const fake = await X509CertificateGenerator.createSelfSigned({
      name: "CN=Intel SGX Root CA, O=Intel Corporation, L=Santa Clara, ST=CA, C=US",
      keys,
      signingAlgorithm: { name: "ECDSA", hash: "SHA-256" },
      notBefore: new Date("2020-01-01T00:00:00Z"),
      notAfter: new Date("2040-01-01T00:00:00Z"),
    });
    const error = await failure(quote(), { root: new Uint8Array(fake.rawData) });
    expect(error.code).toBe("untrusted_root");
    expect(error.message).toMatch(
      /^PCK certificate chain: ends in CN=Intel SGX Root CA \(serial 22650cd65a9d3489f383b49552bf501b392706ac\), not the trusted/,
    );
  });

  test("a root CA that is not self-signed is refused", async () => {
    const platformCa = parsePemChain(collateral().pckCrlIssuerChain, "x")[0];
    const error = await failure(quote(), { root: new Uint8Array(platformCa?.rawData ?? []) });
    expect(error.code).toBe("bad_root_ca");
  });

  test("expired collateral: after the PCK CRL's nextUpdate", async () => {
    const error = await failure(quote(), { now: new Date("2025-07-19T10:20:00Z") });
    expect(error.code).toBe("crl_expired");
    expect(error.message).toBe(
      "PCK CRL: expired at 2025-07-19T10:00:35.000Z, before 2025-07-19T10:20:00.000Z",
    );
  });

  test("collateral not yet valid: before the TCB info's issueDate", async () => {
    const error = await failure(quote(), { now: new Date("2025-06-19T10:10:00Z") });
    expect(error.code).toBe("collateral_not_yet_valid");
    expect(error.message).toMatch(/^TCB info: issued at 2025-06-19T10:16:03.000Z/);
  });

  test("an edited TCB info fails its signature", async () => {
    const col = collateral();
    col.tcbInfo = col.tcbInfo.replace(
      '"tcbEvaluationDataNumber":17',
      '"tcbEvaluationDataNumber":18',
    );
    const error = await failure(quote(), { col });
    expect(error.code).toBe("tcb_info_signature_invalid");
  });

  test("an edited QE identity fails its signature", async () => {
    const col = collateral();
    col.qeIdentity = col.qeIdentity.replace('"isvsvn":4', '"isvsvn":3');
    const error = await failure(quote(), { col });
    expect(error.code).toBe("qe_identity_signature_invalid");
  });

  test("a tampered PCK CRL fails its signature", async () => {
    const col = collateral();
    col.pckCrl = flipBit(col.pckCrl, col.pckCrl.length - 100);
    const error = await failure(quote(), { col });
    expect(["crl_signature_invalid", "bad_crl"]).toContain(error.code);
  });

  test("a truncated quote fails with the field that ran out", async () => {
    const error = await failure(quote().subarray(0, 700));
    expect(error.code).toBe("malformed_quote");
    expect(error.message).toMatch(/signature_data needs 4300 bytes/);
  });

  test("a quote from another QE vendor is refused", async () => {
    const error = await failure(flipBit(quote(), 12));
    expect(error.code).toBe("unsupported_quote");
    expect(error.message).toMatch(/^QE vendor id 929a7233/);
  });

  test("a quote of another version is refused, naming it", async () => {
    const bytes = quote();
    bytes[0] = 3;
    const error = await failure(bytes);
    expect(error.code).toBe("unsupported_quote");
    expect(error.message).toBe(
      "quote version 3 (an SGX quote) is not supported (supported: TDX quotes of version 4 and 5)",
    );
  });
});
