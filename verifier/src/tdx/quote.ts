/**
 * Intel TDX quotes, versions 4 and 5 (Intel TDX DCAP Quote Generation and Verification Library,
 * appendix A): a 48-byte header; in version 5 a body descriptor (type u16, size u32); the TD
 * report body (version 4: always TD report 1.0; version 5: type 2, TD report 1.0, or type 3,
 * TD report 1.5); then the ECDSA signature data: quote signature, attestation key and
 * certification data type 6 (the QE report, its signature, QE authentication data and, nested,
 * the type-5 PEM PCK certificate chain). Anything else is refused with what was found and what
 * is supported.
 */
import { ByteReader, toHex } from "../bytes.ts";
import { fail } from "../errors.ts";
import {
  ENCLAVE_REPORT_BYTES,
  type EnclaveReport,
  parseEnclaveReport,
  readTdReport,
  TD_REPORT_10_BYTES,
  TD_REPORT_15_BYTES,
  type TdReport,
} from "./td-report.ts";

export const ATT_KEY_TYPE_ECDSA_P256 = 2;
export const TEE_TYPE_TDX = 0x81;
export const HEADER_BYTES = 48;
/** Version 5 body types: TD report 1.0 and TD report 1.5 (type 1, an SGX enclave report, is SGX's). */
export const BODY_TD_REPORT_10 = 2;
export const BODY_TD_REPORT_15 = 3;
/** Intel's Quoting Enclave vendor id: quotes from other QEs are not verifiable with Intel's collateral. */
export const INTEL_QE_VENDOR_ID = "939a7233f79c4ca9940a0db3957f0607";
const CERT_TYPE_QE_REPORT = 6;
const CERT_TYPE_PCK_CHAIN = 5;

const VERSION_NAMES: Record<number, string> = { 3: "an SGX quote" };
const KEY_TYPE_NAMES: Record<number, string> = {
  0: "EPID",
  2: "ECDSA-256 with P-256",
  3: "ECDSA-384 with P-384",
};
const TEE_TYPE_NAMES: Record<number, string> = { 0: "SGX", 129: "TDX" };
const BODY_TYPE_NAMES: Record<number, string> = {
  1: "SGX enclave report",
  2: "TD report 1.0",
  3: "TD report 1.5",
};

function named(value: string | number, names: Record<number, string>, key: number): string {
  const name = names[key];
  return name === undefined ? `${value}` : `${value} (${name})`;
}

export interface QuoteHeader {
  version: number;
  attestationKeyType: number;
  teeType: number;
  qeSvn: number;
  pceSvn: number;
  qeVendorId: Uint8Array;
  userData: Uint8Array;
}

export interface TdxQuote {
  header: QuoteHeader;
  /** BODY_TD_REPORT_10 or BODY_TD_REPORT_15 (a version 4 quote's body is a TD report 1.0). */
  bodyType: number;
  report: TdReport;
  /** Header, body descriptor (version 5) and report body: the bytes the quote signature covers. */
  signedBytes: Uint8Array;
  /** r || s, 64 bytes. */
  signature: Uint8Array;
  /** Raw P-256 point x || y, 64 bytes. */
  attestationKey: Uint8Array;
  qeReport: EnclaveReport;
  qeReportSignature: Uint8Array;
  qeAuthData: Uint8Array;
  /** PEM text of the PCK certificate chain, leaf first. */
  pckChainPem: string;
}

/** Reads the header, judging each field as soon as it is read, so that short input is named too. */
function parseHeader(r: ByteReader): QuoteHeader {
  const version = r.u16("header.version");
  if (version !== 4 && version !== 5) {
    fail(
      "unsupported_quote",
      `quote version ${named(version, VERSION_NAMES, version)} is not supported ` +
        "(supported: TDX quotes of version 4 and 5)",
    );
  }
  const attestationKeyType = r.u16("header.att_key_type");
  const teeType = r.u32("header.tee_type");
  if (teeType !== TEE_TYPE_TDX) {
    const hex = `0x${teeType.toString(16).padStart(2, "0")}`;
    fail(
      "unsupported_quote",
      `TEE type ${named(hex, TEE_TYPE_NAMES, teeType)} is not supported (supported: 0x81, TDX)`,
    );
  }
  if (attestationKeyType !== ATT_KEY_TYPE_ECDSA_P256) {
    fail(
      "unsupported_quote",
      `attestation key type ${named(attestationKeyType, KEY_TYPE_NAMES, attestationKeyType)} ` +
        "is not supported (supported: 2, ECDSA-256 with P-256)",
    );
  }
  const header: QuoteHeader = {
    version,
    attestationKeyType,
    teeType,
    qeSvn: r.u16("header.qe_svn"),
    pceSvn: r.u16("header.pce_svn"),
    qeVendorId: r.take(16, "header.qe_vendor_id"),
    userData: r.take(20, "header.user_data"),
  };
  if (toHex(header.qeVendorId) !== INTEL_QE_VENDOR_ID) {
    fail(
      "unsupported_quote",
      `QE vendor id ${toHex(header.qeVendorId)} is not Intel's (${INTEL_QE_VENDOR_ID})`,
    );
  }
  return header;
}

/** The body type and the report, after the header: a version 5 quote describes its body first. */
function parseBody(r: ByteReader, version: number): { bodyType: number; report: TdReport } {
  if (version === 4) {
    return { bodyType: BODY_TD_REPORT_10, report: readTdReport(r, false) };
  }
  const bodyType = r.u16("body.type");
  const size = r.u32("body.size");
  if (bodyType !== BODY_TD_REPORT_10 && bodyType !== BODY_TD_REPORT_15) {
    fail(
      "unsupported_quote",
      `quote version 5: body type ${named(bodyType, BODY_TYPE_NAMES, bodyType)} is not supported ` +
        "(supported: 2, TD report 1.0, and 3, TD report 1.5)",
    );
  }
  const expected = bodyType === BODY_TD_REPORT_15 ? TD_REPORT_15_BYTES : TD_REPORT_10_BYTES;
  if (size !== expected) {
    fail(
      "malformed_quote",
      `quote version 5: body type ${named(bodyType, BODY_TYPE_NAMES, bodyType)} declares ` +
        `${size} bytes, expected ${expected}`,
    );
  }
  return { bodyType, report: readTdReport(r, bodyType === BODY_TD_REPORT_15) };
}

/** Parses a TDX quote of version 4 or 5; bytes after the signature data are ignored (as Intel's QVL). */
export function parseTdxQuote(bytes: Uint8Array): TdxQuote {
  const r = new ByteReader(bytes, "quote");
  const header = parseHeader(r);
  const { bodyType, report } = parseBody(r, header.version);
  const signedBytes = bytes.subarray(0, r.offset);
  const sigDataLength = r.u32("signature_data_len");
  const s = new ByteReader(r.take(sigDataLength, "signature_data"), "quote signature data");
  const signature = s.take(64, "quote_signature");
  const attestationKey = s.take(64, "attestation_key");
  const certType = s.u16("certification_data.type");
  if (certType !== CERT_TYPE_QE_REPORT) {
    fail(
      "unsupported_quote",
      `certification data type ${certType} is not supported (supported: 6, QE report certification data)`,
    );
  }
  const c = new ByteReader(
    s.take(s.u32("certification_data.size"), "certification_data"),
    "QE report certification data",
  );
  const qeReport = parseEnclaveReport(c.take(ENCLAVE_REPORT_BYTES, "qe_report"));
  const qeReportSignature = c.take(64, "qe_report_signature");
  const qeAuthData = c.take(c.u16("qe_auth_data.size"), "qe_auth_data");
  const innerType = c.u16("pck_certification_data.type");
  if (innerType !== CERT_TYPE_PCK_CHAIN) {
    fail(
      "unsupported_quote",
      `PCK certification data type ${innerType} is not supported (supported: 5, PEM PCK certificate chain)`,
    );
  }
  const chain = c.take(c.u32("pck_certification_data.size"), "pck_cert_chain");
  return {
    header,
    bodyType,
    report,
    signedBytes,
    signature,
    attestationKey,
    qeReport,
    qeReportSignature,
    qeAuthData,
    pckChainPem: new TextDecoder().decode(chain),
  };
}

/** "version 5, TD report 1.5": what a parsed quote is, for checks and logs. */
export function describeQuoteFormat(quote: TdxQuote): string {
  return `version ${quote.header.version}, ${BODY_TYPE_NAMES[quote.bodyType] ?? `body type ${quote.bodyType}`}`;
}
