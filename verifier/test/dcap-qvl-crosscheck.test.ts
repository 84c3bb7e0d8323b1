/**
 * Our quote parser and verifier against an independent one, Phala's dcap-qvl (pure JavaScript):
 * every field we read, on every real quote of the fixtures (versions 4 and 5, TD report 1.0 and
 * 1.5), and the verification outcome (TCB status and advisories, or why the quote is refused).
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { type AuthDataV4, type Collateral, Quote, QuoteVerifier } from "@phala/dcap-qvl";
import { describe, expect, test } from "vitest";
import { VerificationError } from "../src/errors.ts";
import { parseTdxQuote } from "../src/tdx/quote.ts";
import { verifyTdxQuote } from "../src/tdx/verify.ts";
import {
  COLLATERAL_PATH,
  collateral,
  NOW,
  quote,
  rootCa,
  V5_COLLATERAL_PATH,
  V5_NOW,
  v5Collateral,
  v5Quote,
} from "./fixtures.ts";

// dcap-qvl's index does not export its enclave report decoder (its typings declare it).
const { BinaryReader, EnclaveReport } = createRequire(import.meta.url)(
  "@phala/dcap-qvl/src/quote.js",
) as Pick<typeof import("@phala/dcap-qvl"), "BinaryReader" | "EnclaveReport">;

const hex = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? []).toString("hex");

/** The v4 fixture re-encoded as a version 5 quote with body type 2 (TD report 1.0). */
function v4AsVersion5(): Uint8Array {
  const v4 = quote();
  const out = new Uint8Array(v4.length + 6);
  out.set(v4.subarray(0, 48));
  out[0] = 5;
  new DataView(out.buffer).setUint16(48, 2, true);
  new DataView(out.buffer).setUint32(50, 584, true);
  out.set(v4.subarray(48), 54);
  return out;
}

const QUOTES: [string, Uint8Array][] = [
  ["v4, TD report 1.0", quote()],
  ["v5, TD report 1.5, up to date", v5Quote("upToDate")],
  ["v5, TD report 1.5, out of date, service TD", v5Quote("outOfDate")],
  ["v5, TD report 1.5, below every TCB level", v5Quote("noTcbLevel")],
  ["v5, TD report 1.0 (re-encoded v4)", v4AsVersion5()],
];

describe("every field we parse equals dcap-qvl's", () => {
  test.each(QUOTES)("%s", (_name, bytes) => {
    const ours = parseTdxQuote(bytes);
    const theirs = Quote.parse(bytes);

    const h = theirs.header;
    expect({
      version: ours.header.version,
      attestationKeyType: ours.header.attestationKeyType,
      teeType: ours.header.teeType,
      qeSvn: ours.header.qeSvn,
      pceSvn: ours.header.pceSvn,
      qeVendorId: hex(ours.header.qeVendorId),
      userData: hex(ours.header.userData),
    }).toEqual({
      version: h.version,
      attestationKeyType: h.attestationKeyType,
      teeType: h.teeType,
      qeSvn: h.qeSvn,
      pceSvn: h.pceSvn,
      qeVendorId: hex(h.qeVendorId),
      userData: hex(h.userData),
    });
    expect(ours.bodyType).toBe(theirs.report.type === "td15" ? 3 : 2);
    expect(ours.signedBytes.length).toBe(theirs.signedLength());

    const td15 = theirs.report.asTd15();
    const td = td15?.base ?? theirs.report.asTd10();
    if (td === null) throw new Error("dcap-qvl read no TD report");
    const r = ours.report;
    expect({
      teeTcbSvn: hex(r.teeTcbSvn),
      mrSeam: hex(r.mrSeam),
      mrSignerSeam: hex(r.mrSignerSeam),
      seamAttributes: hex(r.seamAttributes),
      tdAttributes: hex(r.tdAttributes),
      xfam: hex(r.xfam),
      mrTd: hex(r.mrTd),
      mrConfigId: hex(r.mrConfigId),
      mrOwner: hex(r.mrOwner),
      mrOwnerConfig: hex(r.mrOwnerConfig),
      rtMr0: hex(r.rtmr[0]),
      rtMr1: hex(r.rtmr[1]),
      rtMr2: hex(r.rtmr[2]),
      rtMr3: hex(r.rtmr[3]),
      reportData: hex(r.reportData),
      teeTcbSvn2: r.teeTcbSvn2 === null ? null : hex(r.teeTcbSvn2),
      mrServiceTd: r.mrServiceTd === null ? null : hex(r.mrServiceTd),
    }).toEqual({
      teeTcbSvn: hex(td.teeTcbSvn),
      mrSeam: hex(td.mrSeam),
      mrSignerSeam: hex(td.mrSignerSeam),
      seamAttributes: hex(td.seamAttributes),
      tdAttributes: hex(td.tdAttributes),
      xfam: hex(td.xfam),
      mrTd: hex(td.mrTd),
      mrConfigId: hex(td.mrConfigId),
      mrOwner: hex(td.mrOwner),
      mrOwnerConfig: hex(td.mrOwnerConfig),
      rtMr0: hex(td.rtMr0),
      rtMr1: hex(td.rtMr1),
      rtMr2: hex(td.rtMr2),
      rtMr3: hex(td.rtMr3),
      reportData: hex(td.reportData),
      teeTcbSvn2: td15 === null ? null : hex(td15.teeTcbSvn2),
      mrServiceTd: td15 === null ? null : hex(td15.mrServiceTd),
    });

    if (theirs.authData.version !== 4) throw new Error("dcap-qvl read no v4 auth data");
    const auth = theirs.authData.data as AuthDataV4;
    expect(auth.certificationData.certType).toBe(6);
    expect(auth.qeReportData.certificationData.certType).toBe(5);
    expect({
      signature: hex(ours.signature),
      attestationKey: hex(ours.attestationKey),
      qeReport: hex(ours.qeReport.raw),
      qeReportSignature: hex(ours.qeReportSignature),
      qeAuthData: hex(ours.qeAuthData),
      pckChain: ours.pckChainPem,
    }).toEqual({
      signature: hex(auth.ecdsaSignature),
      attestationKey: hex(auth.ecdsaAttestationKey),
      qeReport: hex(auth.qeReportData.qeReport),
      qeReportSignature: hex(auth.qeReportData.qeReportSignature),
      qeAuthData: hex(auth.qeReportData.qeAuthData),
      pckChain: Buffer.from(theirs.rawCertChain()).toString("utf8"),
    });

    const qe = EnclaveReport.decode(new BinaryReader(auth.qeReportData.qeReport));
    const ourQe = ours.qeReport;
    expect({
      cpuSvn: hex(ourQe.cpuSvn),
      miscSelect: Buffer.from(ourQe.miscSelect).readUInt32LE(0),
      attributes: hex(ourQe.attributes),
      mrEnclave: hex(ourQe.mrEnclave),
      mrSigner: hex(ourQe.mrSigner),
      isvProdId: ourQe.isvProdId,
      isvSvn: ourQe.isvSvn,
      reportData: hex(ourQe.reportData),
    }).toEqual({
      cpuSvn: hex(qe.cpuSvn),
      miscSelect: qe.miscSelect,
      attributes: hex(qe.attributes),
      mrEnclave: hex(qe.mrEnclave),
      mrSigner: hex(qe.mrSigner),
      isvProdId: qe.isvProdId,
      isvSvn: qe.isvSvn,
      reportData: hex(qe.reportData),
    });
  });
});

describe("verification outcome equals dcap-qvl's", () => {
  const v4Collateral = JSON.parse(readFileSync(COLLATERAL_PATH, "utf8")) as Collateral;
  const v5CollateralJson = JSON.parse(readFileSync(V5_COLLATERAL_PATH, "utf8")) as Collateral;
  const theirs = QuoteVerifier.newWithRootCa(Buffer.from(rootCa()));

  async function ours(bytes: Uint8Array, v5: boolean) {
    return verifyTdxQuote(bytes, v5 ? v5Collateral() : collateral(), {
      rootCa: rootCa(),
      now: v5 ? V5_NOW : NOW,
    });
  }

  test.each([
    ["v4", quote(), false],
    ["v5 up to date", v5Quote("upToDate"), true],
  ] as const)("%s: same TCB status and advisories", async (_name, bytes, v5) => {
    const now = (v5 ? V5_NOW : NOW).getTime() / 1000;
    const report = theirs.verify(bytes, v5 ? v5CollateralJson : v4Collateral, now);
    const result = await ours(bytes, v5);
    expect(result.status).toBe(report.status);
    expect(result.advisoryIds).toEqual(report.advisory_ids);
  });

  test("v5 with a service TD: dcap-qvl refuses it at its last check; we grade it and policy refuses", async () => {
    const bytes = v5Quote("outOfDate");
    expect(() => theirs.verify(bytes, v5CollateralJson, V5_NOW.getTime() / 1000)).toThrow(
      "Invalid mr service td",
    );
    const result = await ours(bytes, true);
    expect(result.serviceTd).toBe(true);
    expect(result.status).toBe("OutOfDate");
  });

  test("v5 below every TCB level: both refuse it for want of a matching level", async () => {
    const bytes = v5Quote("noTcbLevel");
    expect(() => theirs.verify(bytes, v5CollateralJson, V5_NOW.getTime() / 1000)).toThrow(
      "No matching TCB level found",
    );
    await expect(ours(bytes, true)).rejects.toMatchObject({ code: "tcb_level_not_found" });
  });

  test("a tampered TEE_TCB_SVN2 or MRSERVICETD: both refuse the quote signature", async () => {
    for (const offset of [54 + 584, 54 + 600]) {
      const bytes = v5Quote("upToDate");
      bytes[offset] = (bytes[offset] ?? 0) ^ 1;
      expect(() => theirs.verify(bytes, v5CollateralJson, V5_NOW.getTime() / 1000)).toThrow();
      const error = await ours(bytes, true).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(VerificationError);
      expect((error as VerificationError).code).toBe("quote_signature_invalid");
    }
  });
});
