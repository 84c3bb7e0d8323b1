/**
 * The whole check of one machine's evidence, the same for the CLI, the library and the service:
 * decode the bundle, verify the TDX quote (or dev report), the REPORTDATA binding, the GPU
 * tokens and the policy, and turn the outcome into a verdict. A VerificationError becomes a
 * rejection with its reason; any other error (collateral unreachable, a bug) propagates, so
 * that the service retries instead of posting a wrong verdict.
 */
import type { JSONWebKeySet } from "jose";
import { parseDevReport } from "./dev-report.ts";
import { fail, VerificationError } from "./errors.ts";
import { decodeEvidence } from "./evidence.ts";
import type { Measurements } from "./measurements.ts";
import { type GpuVerification, verifyGpuEvidence } from "./nvidia/token.ts";
import type { Policy } from "./policy.ts";
import type { Collateral } from "./tdx/collateral.ts";
import { quotePlatform } from "./tdx/platform.ts";
import { type TdxVerification, verifyTdxQuote } from "./tdx/verify.ts";

export type TeeType = "tdx" | "sev-snp" | "none-dev";

/** The TEE types this verifier can judge; others are left to verifiers that can. */
export const SUPPORTED_TEE_TYPES: readonly TeeType[] = ["tdx", "none-dev"];

export interface EvidenceContext {
  teeType: TeeType;
  /**
   * The REPORTDATA (128 hex chars) the registry requires, keyset_sha256 || challenge nonce
   * (report-data.ts); null leaves the binding unchecked.
   */
  reportData: string | null;
  /**
   * The nonce GPU tokens must carry (hex): gpuNonce(keyset_sha256, challenge nonce) from
   * report-data.ts; null: GPU evidence cannot be checked.
   */
  nonce: string | null;
  /**
   * The registry's governed TCB statuses (params.allowed_tcb_statuses). When given they decide,
   * in place of the policy's acceptedTcbStatuses (which serve checks made without a registry).
   */
  allowedTcbStatuses?: readonly string[];
}

export interface TrustInputs {
  /** DER of Intel's SGX root CA. */
  rootCa: Uint8Array;
  /** Collateral for a quote's platform (FMSPC and PCK CA), from files or a PCCS. */
  collateral: (fmspc: string, ca: "platform" | "processor") => Promise<Collateral>;
  /** NVIDIA's JWKS; null when none is configured (GPU evidence then cannot be approved). */
  nvidiaJwks: JSONWebKeySet | null;
  now: Date;
}

export interface EvidenceVerdict {
  approve: boolean;
  /** A TCB status word for the registry: Intel's status, "Dev", or "Unverified". */
  tcbStatus: string;
  reason: string;
  /** The failed check's code, null when approved. */
  code: string | null;
  measurements: Measurements | null;
  advisoryIds: string[];
  checks: string[];
  tdx: TdxVerification | null;
  gpu: GpuVerification | null;
}

async function checkGpu(
  text: string | null,
  context: EvidenceContext,
  trust: TrustInputs,
  policy: Policy,
  checks: string[],
): Promise<GpuVerification | null> {
  if (text === null) {
    if (policy.requireGpu) {
      fail("gpu_evidence_missing", "no NVIDIA GPU evidence, and the policy requires it");
    }
    checks.push("no GPU evidence (allowed by policy)");
    return null;
  }
  if (trust.nvidiaJwks === null) {
    fail("gpu_evidence_unverifiable", "GPU evidence present but no NVIDIA JWKS is configured");
  }
  if (context.nonce === null) {
    fail("gpu_evidence_unverifiable", "GPU evidence present but no expected nonce was given");
  }
  const gpu = await verifyGpuEvidence(text, {
    jwks: trust.nvidiaJwks,
    nonce: context.nonce,
    now: trust.now,
  });
  checks.push(...gpu.checks);
  return gpu;
}

function checkBinding(actual: string, context: EvidenceContext, checks: string[]): void {
  if (context.reportData === null) {
    checks.push("REPORTDATA binding NOT checked (no expected value given)");
    return;
  }
  if (actual !== context.reportData.toLowerCase()) {
    fail(
      "report_data_mismatch",
      `REPORTDATA ${actual} is not the ${context.reportData.toLowerCase()} the registry requires ` +
        "for this machine's keyset (provider, registry, keys, models) and nonce",
    );
  }
  checks.push("REPORTDATA binds the machine's keyset (provider, registry, keys, models) and nonce");
}

/** Intel's TCB status must be one the registry allows (or, without a registry, the policy). */
function checkTcbStatus(
  tdx: TdxVerification,
  context: EvidenceContext,
  policy: Policy,
  checks: string[],
): void {
  const [accepted, by] =
    context.allowedTcbStatuses === undefined
      ? [policy.acceptedTcbStatuses as readonly string[], "policy accepts"]
      : [context.allowedTcbStatuses, "the registry allows"];
  if (!accepted.includes(tdx.status)) {
    fail(
      "tcb_status_refused",
      `TCB status ${tdx.status}${tdx.advisoryIds.length ? ` (${tdx.advisoryIds.join(", ")})` : ""} ` +
        `is not accepted (${by} ${accepted.join(", ")})`,
    );
  }
  checks.push(`TCB status ${tdx.status} accepted (${by} ${accepted.join(", ")})`);
}

async function check(
  evidence: Uint8Array,
  context: EvidenceContext,
  trust: TrustInputs,
  policy: Policy,
  result: EvidenceVerdict,
): Promise<void> {
  const bundle = decodeEvidence(evidence);
  const checks = result.checks;
  if (context.teeType === "none-dev") {
    if (!policy.allowDev) {
      fail(
        "dev_evidence_refused",
        "tee_type none-dev: this verifier's policy does not allow dev evidence",
      );
    }
    if (bundle.devReport === null) {
      fail("bad_evidence", "tee_type none-dev: the bundle has no dev report");
    }
    const dev = parseDevReport(bundle.devReport);
    checkBinding(dev.reportData, context, checks);
    result.gpu = await checkGpu(bundle.gpuEvidence, context, trust, policy, checks);
    result.tcbStatus = "Dev";
    result.measurements = {
      ...dev.measurements,
      ...(result.gpu
        ? { gpu_driver: result.gpu.driverVersion, gpu_vbios: result.gpu.vbiosVersion }
        : {}),
    };
    return;
  }
  if (context.teeType !== "tdx") {
    fail("unsupported_tee", `tee_type ${context.teeType} is not supported by this verifier`);
  }
  if (bundle.tdxQuote === null) {
    fail("bad_evidence", "tee_type tdx: the bundle has no TDX quote");
  }
  const platform = quotePlatform(bundle.tdxQuote);
  const collateral = await trust.collateral(platform.fmspc, platform.ca);
  const tdx = await verifyTdxQuote(bundle.tdxQuote, collateral, {
    rootCa: trust.rootCa,
    now: trust.now,
  });
  result.tdx = tdx;
  result.tcbStatus = tdx.status;
  result.advisoryIds = tdx.advisoryIds;
  checks.push(...tdx.checks);
  checkBinding(tdx.td.report_data ?? "", context, checks);
  if (tdx.debug && !policy.allowDebugTd) {
    fail("debug_td", "the TD runs in debug mode (TD attributes bit 0), which the policy refuses");
  }
  if (tdx.serviceTd && !policy.allowServiceTd) {
    fail(
      "service_td_bound",
      `a service TD is bound to the TD (MRSERVICETD ${tdx.td.mr_service_td}), which the policy refuses`,
    );
  }
  checkTcbStatus(tdx, context, policy, checks);
  result.gpu = await checkGpu(bundle.gpuEvidence, context, trust, policy, checks);
  result.measurements = {
    mrtd: tdx.td.mrtd ?? "",
    rtmr0: tdx.td.rtmr0 ?? "",
    rtmr1: tdx.td.rtmr1 ?? "",
    rtmr2: tdx.td.rtmr2 ?? "",
    rtmr3: tdx.td.rtmr3 ?? "",
    // Without GPU evidence (allowed by policy) the GPU versions are empty.
    gpu_driver: result.gpu?.driverVersion ?? "",
    gpu_vbios: result.gpu?.vbiosVersion ?? "",
  };
}

/** Checks `evidence` and returns the verdict to post; throws only on non-verification errors. */
export async function checkEvidence(
  evidence: Uint8Array,
  context: EvidenceContext,
  trust: TrustInputs,
  policy: Policy,
): Promise<EvidenceVerdict> {
  const result: EvidenceVerdict = {
    approve: false,
    tcbStatus: "Unverified",
    reason: "",
    code: null,
    measurements: null,
    advisoryIds: [],
    checks: [],
    tdx: null,
    gpu: null,
  };
  try {
    await check(evidence, context, trust, policy, result);
  } catch (error) {
    if (!(error instanceof VerificationError)) {
      throw error;
    }
    return {
      ...result,
      approve: false,
      code: error.code,
      reason: `${error.code}: ${error.message}`,
      measurements: null,
    };
  }
  return { ...result, approve: true, reason: `approved: ${result.checks.length} checks passed` };
}
