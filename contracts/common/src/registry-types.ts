/**
 * The registry's records as they are stored, returned by views and carried in events. Shared with
 * escrow (eligibility), the indexer (events) and scripts. Amounts are u128 decimal strings, times
 * are block timestamps in nanoseconds as u64 decimal strings.
 */
import type { ModelEntry } from "./inference-messages.ts";

export type { ModelEntry };

export type ProviderStatus = "active" | "paused" | "retired" | "slashed";

export interface Provider {
  account_id: string;
  name: string;
  endpoint: string;
  region: string;
  bond: string;
  status: ProviderStatus;
  created_at: string;
  updated_at: string;
  /** Set when the provider retires or is slashed; the bond may be withdrawn from then on. */
  unbonding_ends_at: string | null;
}

export type TeeType = "tdx" | "sev-snp" | "none-dev";
export type CcMode = "on" | "off" | "devtools";

export interface GpuSpec {
  model: string;
  count: number;
  vram_mib: number;
  driver: string;
  vbios: string;
  cc_mode: CcMode;
}

export interface Hardware {
  gpus: GpuSpec[];
  cpu_cores: number;
  ram_mib: number;
}

export type MachineStatus = "active" | "inactive";

/**
 * The machine's latest evidence (the bytes themselves are in the submitting transaction). Its
 * REPORTDATA had to be keyset_sha256 || nonce; keyset_sha256 is null only for evidence stored by
 * state version 1 (before keysets).
 */
export interface Evidence {
  hash: string;
  size: number;
  nonce: string;
  submitted_at: string;
  keyset_sha256: string | null;
}

/**
 * What a machine's TEE attests besides its measurements (see inference-messages.ts Keyset): the
 * ed25519 signing key, the X25519 encryption key and the models, and sha256 of the canonical
 * keyset document (which also names the provider and the registry).
 */
export interface MachineKeyset {
  machine_public_key: string;
  encryption_key: string;
  models: ModelEntry[];
  keyset_sha256: string;
}

/**
 * A machine. machine_public_key, encryption_key, models and keyset_sha256 are its current keyset:
 * the one clients encrypt to and escrow checks. encryption_key and keyset_sha256 are null (and
 * models empty) only for machines registered under state version 1, which are ineligible until
 * evidence with a keyset is verified. next_keyset is the keyset the latest evidence attests when
 * it differs from the current one; it becomes current when that evidence is verified.
 */
export interface Machine {
  id: string;
  provider: string;
  machine_public_key: string;
  encryption_key: string | null;
  models: ModelEntry[];
  keyset_sha256: string | null;
  tee_type: TeeType;
  hardware: Hardware;
  price_per_unit: string;
  status: MachineStatus;
  created_at: string;
  updated_at: string;
  evidence: Evidence;
  next_keyset: MachineKeyset | null;
}

export interface Measurements {
  mrtd: string;
  rtmr0: string;
  rtmr1: string;
  rtmr2: string;
  rtmr3: string;
  gpu_driver: string;
  gpu_vbios: string;
}

export interface Verdict {
  verifier: string;
  approve: boolean;
  measurement_id: string | null;
  posted_at: string;
}

export type VerdictOutcome = "pending" | "verified" | "rejected";

/** The verdicts on a machine's latest evidence. */
export interface VerdictSet {
  machine_id: string;
  evidence_hash: string;
  outcome: VerdictOutcome;
  verdicts: Verdict[];
}

/** A machine's verified attestation: stays valid until expires_at, even while newer evidence is pending. */
export interface Attestation {
  machine_id: string;
  evidence_hash: string;
  nonce: string;
  measurement_id: string;
  measurements: Measurements;
  approvers: string[];
  verified_at: string;
  expires_at: string;
  /** The verifier whose verdict completed it; it paid the record's storage and gets it back. */
  paid_by: string;
  /** The keyset the verified evidence attests; null for attestations of state version 1. */
  keyset_sha256: string | null;
}

export type AttestationState = "pending" | "verified" | "rejected" | "expired";

export interface RegistryParams {
  min_bond: string;
  unbonding_period_ns: string;
  challenge_ttl_ns: string;
  attestation_ttl_ns: string;
  max_evidence_bytes: number;
  /** Intel TCB statuses verifiers may approve (and the registry accepts in approving verdicts). */
  allowed_tcb_statuses: string[];
}

export interface Challenge {
  provider: string;
  machine_public_key: string;
  nonce: string;
  expires_at: string;
}

export interface AllowedMeasurement {
  measurement_id: string;
  label: string;
  added_at: string;
}

export interface Eligibility {
  machine_id: string;
  eligible: boolean;
  reason?: string;
  machine_public_key: string | null;
  price_per_unit: string | null;
  provider: string | null;
  encryption_key: string | null;
  keyset_sha256: string | null;
  models: ModelEntry[] | null;
}
