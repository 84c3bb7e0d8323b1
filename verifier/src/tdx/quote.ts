/**
 * Intel TDX quote v4 layout (Intel TDX DCAP Quote Generation Library and Quote Verification
 * spec): a 48-byte header, the 584-byte TD report body (TDX 1.0), then the ECDSA signature data:
 * quote signature, attestation key and certification data type 6 (the QE report, its
 * signature, QE authentication data and, nested, the type-5 PEM PCK certificate chain).
 */
import { ByteReader, toHex } from "../bytes.ts";
import { fail } from "../errors.ts";

export const QUOTE_VERSION_4 = 4;
export const ATT_KEY_TYPE_ECDSA_P256 = 2;
export const TEE_TYPE_TDX = 0x81;
export const HEADER_BYTES = 48;
export const TD_REPORT_BYTES = 584;
/** Intel's Quoting Enclave vendor id: quotes from other QEs are not verifiable with Intel's collateral. */
export const INTEL_QE_VENDOR_ID = "939a7233f79c4ca9940a0db3957f0607";
const CERT_TYPE_QE_REPORT = 6;
const CERT_TYPE_PCK_CHAIN = 5;

export interface QuoteHeader {
  version: number;
  attestationKeyType: number;
  teeType: number;
  qeSvn: number;
  pceSvn: number;
  qeVendorId: Uint8Array;
  userData: Uint8Array;
}

export interface TdReport {
  teeTcbSvn: Uint8Array;
  mrSeam: Uint8Array;
  mrSignerSeam: Uint8Array;
  seamAttributes: Uint8Array;
  tdAttributes: Uint8Array;
  xfam: Uint8Array;
  mrTd: Uint8Array;
  mrConfigId: Uint8Array;
  mrOwner: Uint8Array;
  mrOwnerConfig: Uint8Array;
  rtmr: [Uint8Array, Uint8Array, Uint8Array, Uint8Array];
  reportData: Uint8Array;
}

/** An SGX enclave report body (384 bytes): here, the Quoting Enclave's. */
export interface EnclaveReport {
  raw: Uint8Array;
  cpuSvn: Uint8Array;
  miscSelect: Uint8Array;
  attributes: Uint8Array;
  mrEnclave: Uint8Array;
  mrSigner: Uint8Array;
  isvProdId: number;
  isvSvn: number;
  reportData: Uint8Array;
}

export interface TdxQuote {
  header: QuoteHeader;
  report: TdReport;
  /** Header and report body: the bytes the quote signature covers. */
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

function parseHeader(r: ByteReader): QuoteHeader {
  const header: QuoteHeader = {
    version: r.u16("header.version"),
    attestationKeyType: r.u16("header.att_key_type"),
    teeType: r.u32("header.tee_type"),
    qeSvn: r.u16("header.qe_svn"),
    pceSvn: r.u16("header.pce_svn"),
    qeVendorId: r.take(16, "header.qe_vendor_id"),
    userData: r.take(20, "header.user_data"),
  };
  if (header.version !== QUOTE_VERSION_4) {
    fail("unsupported_quote", `quote version ${header.version} is not supported (expected 4)`);
  }
  if (header.attestationKeyType !== ATT_KEY_TYPE_ECDSA_P256) {
    fail(
      "unsupported_quote",
      `attestation key type ${header.attestationKeyType} is not supported (expected 2, ECDSA P-256)`,
    );
  }
  if (header.teeType !== TEE_TYPE_TDX) {
    fail("unsupported_quote", `TEE type 0x${header.teeType.toString(16)} is not TDX (0x81)`);
  }
  if (toHex(header.qeVendorId) !== INTEL_QE_VENDOR_ID) {
    fail(
      "unsupported_quote",
      `QE vendor id ${toHex(header.qeVendorId)} is not Intel's (${INTEL_QE_VENDOR_ID})`,
    );
  }
  return header;
}

function parseTdReport(r: ByteReader): TdReport {
  return {
    teeTcbSvn: r.take(16, "report.tee_tcb_svn"),
    mrSeam: r.take(48, "report.mr_seam"),
    mrSignerSeam: r.take(48, "report.mr_signer_seam"),
    seamAttributes: r.take(8, "report.seam_attributes"),
    tdAttributes: r.take(8, "report.td_attributes"),
    xfam: r.take(8, "report.xfam"),
    mrTd: r.take(48, "report.mr_td"),
    mrConfigId: r.take(48, "report.mr_config_id"),
    mrOwner: r.take(48, "report.mr_owner"),
    mrOwnerConfig: r.take(48, "report.mr_owner_config"),
    rtmr: [
      r.take(48, "report.rtmr0"),
      r.take(48, "report.rtmr1"),
      r.take(48, "report.rtmr2"),
      r.take(48, "report.rtmr3"),
    ],
    reportData: r.take(64, "report.report_data"),
  };
}

export function parseEnclaveReport(raw: Uint8Array): EnclaveReport {
  const r = new ByteReader(raw, "QE report");
  const cpuSvn = r.take(16, "cpu_svn");
  const miscSelect = r.take(4, "misc_select");
  r.take(28, "reserved1");
  const attributes = r.take(16, "attributes");
  const mrEnclave = r.take(32, "mr_enclave");
  r.take(32, "reserved2");
  const mrSigner = r.take(32, "mr_signer");
  r.take(96, "reserved3");
  const isvProdId = r.u16("isv_prod_id");
  const isvSvn = r.u16("isv_svn");
  r.take(60, "reserved4");
  const reportData = r.take(64, "report_data");
  return {
    raw,
    cpuSvn,
    miscSelect,
    attributes,
    mrEnclave,
    mrSigner,
    isvProdId,
    isvSvn,
    reportData,
  };
}

/** Parses a TDX v4 quote; trailing bytes after the signature data are ignored (as Intel's QVL). */
export function parseTdxQuote(bytes: Uint8Array): TdxQuote {
  const r = new ByteReader(bytes, "quote");
  const header = parseHeader(r);
  const report = parseTdReport(r);
  const signedBytes = bytes.subarray(0, HEADER_BYTES + TD_REPORT_BYTES);
  const sigDataLength = r.u32("signature_data_len");
  const s = new ByteReader(r.take(sigDataLength, "signature_data"), "quote signature data");
  const signature = s.take(64, "quote_signature");
  const attestationKey = s.take(64, "attestation_key");
  const certType = s.u16("certification_data.type");
  if (certType !== CERT_TYPE_QE_REPORT) {
    fail(
      "unsupported_quote",
      `certification data type ${certType} is not supported (expected 6, QE report)`,
    );
  }
  const c = new ByteReader(
    s.take(s.u32("certification_data.size"), "certification_data"),
    "QE report certification data",
  );
  const qeReport = parseEnclaveReport(c.take(384, "qe_report"));
  const qeReportSignature = c.take(64, "qe_report_signature");
  const qeAuthData = c.take(c.u16("qe_auth_data.size"), "qe_auth_data");
  const innerType = c.u16("pck_certification_data.type");
  if (innerType !== CERT_TYPE_PCK_CHAIN) {
    fail(
      "unsupported_quote",
      `PCK certification data type ${innerType} is not supported (expected 5, PEM chain)`,
    );
  }
  const chain = c.take(c.u32("pck_certification_data.size"), "pck_cert_chain");
  return {
    header,
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

/** The TD's measurements and identity fields as lowercase hex, for verdicts and display. */
export function describeTdReport(report: TdReport): Record<string, string> {
  return {
    tee_tcb_svn: toHex(report.teeTcbSvn),
    mr_seam: toHex(report.mrSeam),
    mr_signer_seam: toHex(report.mrSignerSeam),
    seam_attributes: toHex(report.seamAttributes),
    td_attributes: toHex(report.tdAttributes),
    xfam: toHex(report.xfam),
    mrtd: toHex(report.mrTd),
    mr_config_id: toHex(report.mrConfigId),
    mr_owner: toHex(report.mrOwner),
    mr_owner_config: toHex(report.mrOwnerConfig),
    rtmr0: toHex(report.rtmr[0]),
    rtmr1: toHex(report.rtmr[1]),
    rtmr2: toHex(report.rtmr[2]),
    rtmr3: toHex(report.rtmr[3]),
    report_data: toHex(report.reportData),
  };
}
