/** The registry's small root state (serialized to STATE on every call) and its fixed limits. */
import type { RegistryParams } from "../../common/src/registry-types.ts";

/**
 * Layout version of STATE and records; `migrate` upgrades older layouts to this one. Version 2
 * added machine keysets (encryption key, models, keyset hash in REPORTDATA) and
 * params.allowed_tcb_statuses; version 3 the escrow account withdraw_bond asks (`escrow`).
 */
export const CONTRACT_VERSION = 3;

export interface RegistryState {
  version: number;
  owner: string;
  treasury: string;
  params: RegistryParams;
  verifiers: string[];
  threshold: number;
  dev_mode: boolean;
  next_machine_id: string;
  /**
   * The escrow whose jobs hold a provider's bond (withdraw_bond asks it); "" while none is wired
   * (near-sdk-js cannot restore a field whose default is null; views show null).
   */
  escrow: string;
}

const TGAS = 1_000_000_000_000n;

export const GAS = {
  /** The escrow's provider_exposure view. */
  exposure: 25n * TGAS,
  /** on_bond_check (pays the bond); it also gets all gas left over. */
  bondCheck: 25n * TGAS,
  /** What withdraw_bond itself still burns after scheduling them. */
  margin: 5n * TGAS,
} as const;

export const LIMITS = {
  /** Most methods' JSON arguments. */
  argsBytes: 4096,
  /** Added for methods carrying a keyset: an encryption key and up to 16 models. */
  keysetArgsBytes: 3072,
  /** Hard ceiling for params.max_evidence_bytes (decoded evidence). */
  evidenceBytesCeiling: 32768,
  maxVerifiers: 10,
  maxGpus: 16,
  pageLimit: 100,
  batchEligibility: 50,
} as const;

/**
 * Fixed storage fees of verifier-paid records, upper bounds of their measured size (the meter
 * checks that): a fixed fee makes the refund on release exact whatever else changed meanwhile.
 */
export const VERDICT_STORAGE_BYTES = 500n;
export const ATTESTATION_STORAGE_BYTES = 2200n;

export const DEFAULT_PARAMS: RegistryParams = {
  min_bond: "1000000000000000000000000",
  unbonding_period_ns: "604800000000000",
  challenge_ttl_ns: "3600000000000",
  attestation_ttl_ns: "86400000000000",
  max_evidence_bytes: 8192,
  allowed_tcb_statuses: ["UpToDate"],
};

/**
 * The TCB statuses governance may allow: Intel's TDX statuses of a quote, "Revoked" excepted
 * (never acceptable).
 */
export const TCB_STATUSES: readonly string[] = [
  "UpToDate",
  "SWHardeningNeeded",
  "ConfigurationNeeded",
  "ConfigurationAndSWHardeningNeeded",
  "OutOfDate",
  "OutOfDateConfigurationNeeded",
  "TDRelaunchAdvised",
  "TDRelaunchAdvisedConfigurationNeeded",
];
