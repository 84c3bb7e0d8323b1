/**
 * Schemas of the registry's gpumarket 1.0.0 events, from contracts/common/src/event-types.ts and
 * registry-types.ts. Each event's `data` is an array of exactly these objects. Fields that state
 * version 2 added (keysets, allowed TCB statuses) are optional: events logged by version 1 lack
 * them and read as having none.
 */
import {
  array,
  bool,
  type Check,
  count,
  extend,
  type Infer,
  nullable,
  object,
  oneOf,
  optional,
  str,
  u64,
  u128,
} from "./schema.ts";

const providerShape = {
  account_id: str,
  name: str,
  endpoint: str,
  region: str,
  bond: u128,
  status: oneOf("active", "paused", "retired", "slashed"),
  created_at: u64,
  updated_at: u64,
  unbonding_ends_at: nullable(u64),
};
export const provider = object(providerShape);
export type Provider = Infer<typeof provider>;

const gpu = object({
  model: str,
  count: count,
  vram_mib: count,
  driver: str,
  vbios: str,
  cc_mode: oneOf("on", "off", "devtools"),
});

const evidenceShape = {
  hash: str,
  size: count,
  nonce: str,
  submitted_at: u64,
  /** The keyset the evidence attests (absent from version 1 events). */
  keyset_sha256: optional(nullable(str)),
};

const modelEntry = object({ name: str, weights_sha256: str });

export const keyset = object({
  machine_public_key: str,
  encryption_key: str,
  models: array(modelEntry),
  keyset_sha256: str,
});
export type Keyset = Infer<typeof keyset>;

export const machine = object({
  id: u64,
  provider: str,
  machine_public_key: str,
  encryption_key: optional(nullable(str)),
  models: optional(array(modelEntry)),
  keyset_sha256: optional(nullable(str)),
  tee_type: oneOf("tdx", "sev-snp", "none-dev"),
  hardware: object({ gpus: array(gpu), cpu_cores: count, ram_mib: count }),
  price_per_unit: u128,
  status: oneOf("active", "inactive"),
  created_at: u64,
  updated_at: u64,
  evidence: object(evidenceShape),
  next_keyset: optional(nullable(keyset)),
});
export type Machine = Infer<typeof machine>;

const measurements = object({
  mrtd: str,
  rtmr0: str,
  rtmr1: str,
  rtmr2: str,
  rtmr3: str,
  gpu_driver: str,
  gpu_vbios: str,
});

export const attestation = object({
  machine_id: u64,
  evidence_hash: str,
  nonce: str,
  measurement_id: str,
  measurements,
  approvers: array(str),
  verified_at: u64,
  expires_at: u64,
  paid_by: str,
  keyset_sha256: optional(nullable(str)),
});
export type Attestation = Infer<typeof attestation>;

const params = object({
  min_bond: u128,
  unbonding_period_ns: u64,
  challenge_ttl_ns: u64,
  attestation_ttl_ns: u64,
  max_evidence_bytes: count,
  allowed_tcb_statuses: optional(array(str)),
});

const verifierSet = { verifiers: array(str), threshold: count };

export const registryEvents = {
  registry_initialized: object({
    owner: str,
    treasury: str,
    params,
    version: count,
    // Registry version 3: the escrow whose jobs hold bonds (null: none).
    escrow: optional(nullable(str)),
  }),
  params_updated: object({ params }),
  provider_registered: provider,
  provider_updated: provider,
  provider_paused: provider,
  provider_resumed: provider,
  provider_retired: provider,
  provider_slashed: extend(providerShape, { amount: u128, reason: str, treasury: str }),
  bond_withdrawn: extend(providerShape, { amount: u128 }),
  challenge_issued: object({
    provider: str,
    machine_public_key: str,
    nonce: str,
    expires_at: u64,
    /** Version 1 only (REPORTDATA now depends on the keyset, which a challenge does not name). */
    report_data: optional(str),
  }),
  machine_added: machine,
  machine_price_updated: machine,
  machine_deactivated: machine,
  machine_reactivated: machine,
  machine_removed: object({ id: u64, provider: str, machine_public_key: str }),
  evidence_submitted: extend(evidenceShape, {
    machine_id: u64,
    provider: str,
    current_keyset: optional(nullable(keyset)),
    next_keyset: optional(nullable(keyset)),
  }),
  verdict_posted: object({
    machine_id: u64,
    evidence_hash: str,
    verifier: str,
    approve: bool,
    measurements: nullable(measurements),
    measurement_id: nullable(str),
    tcb_status: str,
    reason: str,
    posted_at: u64,
    outcome: oneOf("pending", "verified", "rejected"),
    approvals: count,
    rejections: count,
    attestation: nullable(attestation),
    attestation_revoked: bool,
    keyset_activated: optional(nullable(keyset)),
  }),
  verifier_added: object({ verifier: str, ...verifierSet }),
  verifier_removed: object({ verifier: str, ...verifierSet }),
  threshold_set: object(verifierSet),
  measurement_allowed: object({ measurement_id: str, label: str, added_at: u64 }),
  measurement_revoked: object({ measurement_id: str }),
  dev_mode_set: object({ enabled: bool }),
  contract_upgrade_started: object({ code_sha256: str, code_size: count }),
  contract_migrated: object({ from_version: count, to_version: count }),
} satisfies Record<string, Check<unknown>>;

export type RegistryEventName = keyof typeof registryEvents;
export type RegistryEventData<N extends RegistryEventName> = Infer<(typeof registryEvents)[N]>;
