/**
 * Verifies an Intel TDX quote (version 4 or 5) against collateral and Intel's SGX root CA at a given time:
 * CRLs, the PCK certificate chain, the signed TCB info and QE identity, the QE report and its
 * binding to the attestation key, the quote signature, then the TCB status with its advisories
 * (including Intel's TD relaunch advice for TD report 1.5 quotes).
 * Throws VerificationError (with a code and the exact reason) at the first failed check.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { concatBytes, equalBytes, toHex } from "../bytes.ts";
import { fail } from "../errors.ts";
import {
  type CrlSet,
  parseCrl,
  parsePemChain,
  requireTrustedTop,
  verifyChain,
  verifyCrl,
} from "./certs.ts";
import type { Collateral } from "./collateral.ts";
import { p256PointOf, rawKeyToPoint, verifyP256 } from "./ecdsa.ts";
import { readPckTcb } from "./pck-extension.ts";
import { describeQuoteFormat, parseTdxQuote } from "./quote.ts";
import {
  parseQeIdentity,
  parseTdxTcbInfo,
  type TcbLevelStatus,
  type TcbStatus,
} from "./tcb-info.ts";
import { gradeTcb } from "./tcb-status.ts";
import { describeTdReport } from "./td-report.ts";
import { X509Certificate } from "./x509.ts";

export interface TdxVerification {
  /** The quote's version (4 or 5) and body type (2: TD report 1.0, 3: TD report 1.5). */
  quote: { version: number; bodyType: number };
  /** The TCB status after converging platform, TDX module and QE levels. */
  status: TcbStatus;
  advisoryIds: string[];
  /** TD report fields as lowercase hex (mrtd, rtmr0-3, report_data, ...). */
  td: Record<string, string>;
  /** TUD.DEBUG (bit 0 of TD attributes): a debug TD's memory is readable by the host. */
  debug: boolean;
  /** A TD report 1.5 with a non-zero MRSERVICETD: a service TD (e.g. migration) is bound to the TD. */
  serviceTd: boolean;
  platform: {
    fmspc: string;
    pceId: string;
    pceSvn: number;
    sgxComponents: number[];
    tcbDate: string;
    /** The status of the first TCB level the SGX part alone meets. */
    sgxStatus: TcbLevelStatus;
    /** The status of the TCB level the SGX and TDX parts meet. */
    platformStatus: TcbLevelStatus;
    tdxModuleStatus: TcbLevelStatus | null;
    qeStatus: TcbLevelStatus;
    tcbEvaluationDataNumber: number;
  };
  collateral: {
    tcbInfoIssueDate: string;
    tcbInfoNextUpdate: string;
    qeIdentityNextUpdate: string;
    pckCrlNextUpdate: string;
    rootCaCrlNextUpdate: string;
  };
  /** Every check that passed, in order. */
  checks: string[];
}

export interface TdxVerifyOptions {
  /** DER of the trusted Intel SGX root CA certificate. */
  rootCa: Uint8Array;
  /** The time certificates, CRLs and collateral must be valid at. */
  now: Date;
}

function checkWindow(what: string, issued: Date, nextUpdate: Date, now: Date): void {
  if (now < issued) {
    fail(
      "collateral_not_yet_valid",
      `${what}: issued at ${issued.toISOString()}, after ${now.toISOString()}`,
    );
  }
  if (now > nextUpdate) {
    fail(
      "collateral_expired",
      `${what}: expired at ${nextUpdate.toISOString()} (nextUpdate), before ${now.toISOString()}`,
    );
  }
}

function parseRoot(der: Uint8Array): X509Certificate {
  try {
    return new X509Certificate(der);
  } catch (error) {
    return fail("bad_certificate", `root CA: does not parse (${(error as Error).message})`);
  }
}

export async function verifyTdxQuote(
  quoteBytes: Uint8Array,
  collateral: Collateral,
  options: TdxVerifyOptions,
): Promise<TdxVerification> {
  const { now } = options;
  const checks: string[] = [];
  const quote = parseTdxQuote(quoteBytes);
  checks.push(`quote parsed: ${describeQuoteFormat(quote)}, ECDSA P-256, TDX`);

  const root = parseRoot(options.rootCa);
  if (!(await root.verify({ publicKey: root.publicKey, signatureOnly: true }))) {
    fail("bad_root_ca", `root CA: ${root.subject} is not self-signed`);
  }

  const pckChain = parsePemChain(quote.pckChainPem, "PCK certificate chain");
  requireTrustedTop(pckChain, root, "PCK certificate chain");

  // CRLs next: every chain below is checked against them.
  const rootCrl = parseCrl(collateral.rootCaCrl, "root CA CRL");
  await verifyCrl(rootCrl, root, now, "root CA CRL");
  const crls: CrlSet = new Map([[root.subject, rootCrl]]);
  const pckCrlChain = parsePemChain(collateral.pckCrlIssuerChain, "PCK CRL issuer chain");
  await verifyChain(pckCrlChain, root, crls, now, "PCK CRL issuer chain");
  const pckCrl = parseCrl(collateral.pckCrl, "PCK CRL");
  await verifyCrl(pckCrl, pckCrlChain[0] as X509Certificate, now, "PCK CRL");
  crls.set(pckCrl.issuer, pckCrl);
  checks.push(`root CA CRL and PCK CRL (${pckCrl.issuer.replace(/,.*$/, "")}) signed and current`);

  await verifyChain(pckChain, root, crls, now, "PCK certificate chain");
  const pckCert = pckChain[0] as X509Certificate;
  checks.push("PCK certificate chain verified to the Intel SGX root CA, none revoked");

  const tcbChain = parsePemChain(collateral.tcbInfoIssuerChain, "TCB info issuer chain");
  await verifyChain(tcbChain, root, crls, now, "TCB info issuer chain");
  if (
    !verifyP256(
      collateral.tcbInfoSignature,
      new TextEncoder().encode(collateral.tcbInfo),
      p256PointOf(tcbChain[0] as X509Certificate),
    )
  ) {
    fail(
      "tcb_info_signature_invalid",
      "TCB info: signature does not verify with the TCB signing key",
    );
  }
  const tcbInfo = parseTdxTcbInfo(collateral.tcbInfo);
  checkWindow("TCB info", tcbInfo.issueDate, tcbInfo.nextUpdate, now);
  checks.push(`TCB info signed by Intel, current until ${tcbInfo.nextUpdate.toISOString()}`);

  const qeChain = parsePemChain(collateral.qeIdentityIssuerChain, "QE identity issuer chain");
  await verifyChain(qeChain, root, crls, now, "QE identity issuer chain");
  if (
    !verifyP256(
      collateral.qeIdentitySignature,
      new TextEncoder().encode(collateral.qeIdentity),
      p256PointOf(qeChain[0] as X509Certificate),
    )
  ) {
    fail(
      "qe_identity_signature_invalid",
      "QE identity: signature does not verify with the TCB signing key",
    );
  }
  const qeIdentity = parseQeIdentity(collateral.qeIdentity);
  checkWindow("QE identity", qeIdentity.issueDate, qeIdentity.nextUpdate, now);
  checks.push(`QE identity signed by Intel, current until ${qeIdentity.nextUpdate.toISOString()}`);

  if (!verifyP256(quote.qeReportSignature, quote.qeReport.raw, p256PointOf(pckCert))) {
    fail(
      "qe_report_signature_invalid",
      "QE report: signature does not verify with the PCK certificate's key",
    );
  }
  checks.push("QE report signed by the PCK key");

  const expectedQeData = sha256(concatBytes(quote.attestationKey, quote.qeAuthData));
  const qeData = quote.qeReport.reportData;
  if (
    !equalBytes(qeData.subarray(0, 32), expectedQeData) ||
    qeData.subarray(32).some((b) => b !== 0)
  ) {
    fail(
      "qe_report_data_mismatch",
      `QE report data ${toHex(qeData.subarray(0, 32))} is not sha256(attestation key || QE auth data) ` +
        `${toHex(expectedQeData)} followed by zeros`,
    );
  }
  checks.push("QE report binds the attestation key");

  if (!verifyP256(quote.signature, quote.signedBytes, rawKeyToPoint(quote.attestationKey))) {
    fail(
      "quote_signature_invalid",
      "quote signature does not verify over the header and TD report with the attestation key",
    );
  }
  checks.push("quote signature over header and TD report verified");

  const pck = readPckTcb(pckCert);
  if (pck.fmspc !== tcbInfo.fmspc) {
    fail(
      "fmspc_mismatch",
      `PCK certificate FMSPC ${pck.fmspc} is not the TCB info's ${tcbInfo.fmspc}`,
    );
  }
  if (pck.pceId !== tcbInfo.pceId) {
    fail(
      "fmspc_mismatch",
      `PCK certificate PCE id ${pck.pceId} is not the TCB info's ${tcbInfo.pceId}`,
    );
  }
  const grade = gradeTcb(tcbInfo, qeIdentity, pck, quote.report, quote.qeReport);
  const { platform: level, module: moduleLevel, qe: qeLevel, status, advisoryIds } = grade;
  checks.push(`QE identity matched (ISVSVN ${quote.qeReport.isvSvn}: ${qeLevel.status})`);
  checks.push(
    moduleLevel === null
      ? "TDX module signer and attributes matched"
      : `TDX module identity matched (${moduleLevel.status})`,
  );
  checks.push(`TCB level ${level.tcbDate} matched: ${level.status}; overall ${status}`);

  return {
    quote: { version: quote.header.version, bodyType: quote.bodyType },
    status,
    advisoryIds,
    td: describeTdReport(quote.report),
    debug: ((quote.report.tdAttributes[0] ?? 0) & 1) === 1,
    serviceTd: quote.report.mrServiceTd?.some((b) => b !== 0) ?? false,
    platform: {
      fmspc: pck.fmspc,
      pceId: pck.pceId,
      pceSvn: pck.pceSvn,
      sgxComponents: pck.sgxComponents,
      tcbDate: level.tcbDate,
      sgxStatus: grade.sgx.status,
      platformStatus: level.status,
      tdxModuleStatus: moduleLevel?.status ?? null,
      qeStatus: qeLevel.status,
      tcbEvaluationDataNumber: tcbInfo.tcbEvaluationDataNumber,
    },
    collateral: {
      tcbInfoIssueDate: tcbInfo.issueDate.toISOString(),
      tcbInfoNextUpdate: tcbInfo.nextUpdate.toISOString(),
      qeIdentityNextUpdate: qeIdentity.nextUpdate.toISOString(),
      pckCrlNextUpdate: pckCrl.nextUpdate?.toISOString() ?? "",
      rootCaCrlNextUpdate: rootCrl.nextUpdate?.toISOString() ?? "",
    },
    checks,
  };
}
