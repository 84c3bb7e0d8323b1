/**
 * The client's own check of a machine's attestation, independent of the registry's verifiers: the
 * evidence the provider serves must be the evidence on-chain (by sha256); its TDX quote must verify
 * to Intel's root (dcap-qvl) with an accepted TCB status, come from a non-debug TD, and carry
 * REPORTDATA = keyset_sha256 || the registry's nonce, so the keys the client encrypts to and
 * checks receipts with are the keys this TEE generated. When the evidence is the attested one, its
 * measurements must also be those the verifiers recorded on-chain.
 */
import type { Measurements, TeeType } from "@gpu-market/common/src/registry-types.ts";
import { sha256Hex } from "@gpu-market/protocol";
import {
  type Collateral,
  getCollateral,
  INTEL_PCS_URL,
  QuoteVerifier,
  type TDReport10,
  type VerifiedReport,
} from "@phala/dcap-qvl";
import { clientError, messageOf } from "./errors.ts";
import { decodeEvidence } from "./evidence.ts";
import type { AttestationOptions, AttestationReport } from "./types.ts";

export interface EvidenceOnChain {
  machineId: string;
  teeType: TeeType;
  /** The machine's latest evidence. */
  latest: { hash: string; nonce: string };
  /** Its verified attestation, if any (may be of earlier evidence while newer is pending). */
  attestation: { evidence_hash: string; nonce: string; measurements: Measurements } | null;
  /** The keyset the client encrypts to, already checked against the registry's keyset fields. */
  keysetSha256: string;
  allowedTcbStatuses: string[];
  allowDevMachines: boolean;
}

function refuse(machineId: string, reason: string): never {
  return clientError("attestation_failed", `machine ${machineId}: ${reason}`);
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("hex");
}

/** Which on-chain evidence the served bytes are, and the nonce their REPORTDATA must carry. */
function matchEvidence(evidenceSha256: string, chain: EvidenceOnChain) {
  if (chain.attestation?.evidence_hash === evidenceSha256) {
    return { nonce: chain.attestation.nonce, attested: chain.attestation };
  }
  if (chain.latest.hash === evidenceSha256) {
    return { nonce: chain.latest.nonce, attested: null };
  }
  const attested = chain.attestation?.evidence_hash ?? "none";
  return refuse(
    chain.machineId,
    `the endpoint serves evidence with sha256 ${evidenceSha256}, which is neither the machine's latest evidence (${chain.latest.hash}) nor its attested evidence (${attested})`,
  );
}

function checkDevReport(text: string | null, chain: EvidenceOnChain, expected: string): void {
  let reportData: unknown;
  try {
    reportData = (JSON.parse(text ?? "") as { report_data?: unknown }).report_data;
  } catch {
    refuse(chain.machineId, "the dev evidence has no JSON dev report");
  }
  if (reportData !== expected) {
    refuse(
      chain.machineId,
      `the dev report's report_data ${String(reportData)} is not sha256(keyset) || nonce ${expected}`,
    );
  }
}

async function collateralFor(quote: Uint8Array, options: AttestationOptions): Promise<Collateral> {
  if (options.collateral !== undefined) return options.collateral;
  const pccs = options.pccsUrl ?? INTEL_PCS_URL;
  try {
    return await getCollateral(pccs, quote);
  } catch (error) {
    return clientError(
      "attestation_failed",
      `cannot get the quote's collateral from ${pccs}: ${messageOf(error)}`,
      { cause: error },
    );
  }
}

function tdReport(verified: VerifiedReport): TDReport10 | null {
  return verified.report.asTd10() ?? verified.report.asTd15()?.base ?? null;
}

export async function checkAttestation(
  evidence: Uint8Array,
  chain: EvidenceOnChain,
  options: AttestationOptions = {},
): Promise<AttestationReport> {
  const id = chain.machineId;
  const evidenceSha256 = sha256Hex(evidence);
  const { nonce, attested } = matchEvidence(evidenceSha256, chain);
  const expected = `${chain.keysetSha256}${nonce}`;
  const sections = decodeEvidence(evidence);
  const base = { machineId: id, teeType: chain.teeType, evidenceSha256 };

  if (chain.teeType === "none-dev") {
    if (!chain.allowDevMachines) {
      clientError(
        "dev_machine",
        `machine ${id} is a none-dev machine: it runs in no TEE and has no quote, so nothing proves where the prompt is decrypted; pass allowDevMachines to use it on a dev network`,
      );
    }
    checkDevReport(sections.devReport, chain, expected);
    return {
      ...base,
      tcbStatus: "dev",
      advisoryIds: [],
      reportData: expected,
      mrtd: null,
      rtmr: [],
    };
  }
  if (chain.teeType !== "tdx") {
    refuse(id, `the client checks TDX quotes; this machine's TEE is ${chain.teeType}`);
  }
  const quote = sections.tdxQuote ?? refuse(id, "the evidence holds no TDX quote");

  const verifier =
    options.rootCaDer === undefined
      ? QuoteVerifier.newProd()
      : QuoteVerifier.newWithRootCa(Buffer.from(options.rootCaDer));
  const collateral = await collateralFor(quote, options);
  const now = (options.now?.() ?? new Date()).getTime() / 1000;
  let verified: VerifiedReport;
  try {
    verified = verifier.verify(quote, collateral, now);
  } catch (error) {
    return refuse(id, `the TDX quote does not verify: ${messageOf(error)}`);
  }
  if (!chain.allowedTcbStatuses.includes(verified.status)) {
    const advisories = verified.advisory_ids.length ? ` (${verified.advisory_ids.join(", ")})` : "";
    refuse(
      id,
      `TCB status ${verified.status}${advisories} is not accepted (accepted: ${chain.allowedTcbStatuses.join(", ")})`,
    );
  }
  const td = tdReport(verified) ?? refuse(id, "the quote is not a TD report");
  if (((td.tdAttributes[0] ?? 0) & 1) !== 0) {
    refuse(
      id,
      "the TD runs in debug mode (TD attributes bit 0): its memory is readable by the host",
    );
  }
  const reportData = hex(td.reportData);
  if (reportData !== expected) {
    refuse(
      id,
      `REPORTDATA ${reportData} is not sha256(keyset) || nonce = ${expected}: the quote does not vouch for the keys the registry lists`,
    );
  }
  const measured = {
    mrtd: hex(td.mrTd),
    rtmr0: hex(td.rtMr0),
    rtmr1: hex(td.rtMr1),
    rtmr2: hex(td.rtMr2),
    rtmr3: hex(td.rtMr3),
  };
  if (attested !== null) {
    for (const [field, value] of Object.entries(measured)) {
      const recorded = attested.measurements[field as keyof Measurements];
      if (recorded !== value) {
        refuse(id, `the quote's ${field} ${value} differs from the attested ${recorded}`);
      }
    }
  }
  return {
    ...base,
    tcbStatus: verified.status,
    advisoryIds: verified.advisory_ids,
    reportData,
    mrtd: measured.mrtd,
    rtmr: [measured.rtmr0, measured.rtmr1, measured.rtmr2, measured.rtmr3],
  };
}
