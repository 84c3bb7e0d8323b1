/** The verifier library: the checks anyone can run on a machine's evidence, and its format. */
export {
  checkEvidence,
  type EvidenceContext,
  type EvidenceVerdict,
  SUPPORTED_TEE_TYPES,
  type TeeType,
  type TrustInputs,
} from "./check.ts";
export { type DevReport, devReportJson, parseDevReport } from "./dev-report.ts";
export { VerificationError } from "./errors.ts";
export { decodeEvidence, type EvidenceBundle, encodeEvidence } from "./evidence.ts";
export { canonicalMeasurements, type Measurements, measurementId } from "./measurements.ts";
export { type GpuVerification, NRAS_ISSUER, verifyGpuEvidence } from "./nvidia/token.ts";
export { DEFAULT_POLICY, type Policy, parsePolicy } from "./policy.ts";
export {
  expectedReportData,
  gpuNonce,
  type Keyset,
  keysetSha256,
  type ModelEntry,
} from "./report-data.ts";
export { type Collateral, parseCollateral, parseCollateralJson } from "./tdx/collateral.ts";
export {
  CollateralCache,
  type CollateralCacheOptions,
  CollateralUnavailableError,
  collateralExpiry,
} from "./tdx/collateral-cache.ts";
export { PccsClient } from "./tdx/pccs.ts";
export { parseTdxQuote, type TdxQuote } from "./tdx/quote.ts";
export type { TcbLevelStatus, TcbStatus } from "./tdx/tcb-info.ts";
export { type TdxVerification, verifyTdxQuote } from "./tdx/verify.ts";
