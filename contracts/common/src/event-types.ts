/** The data of every gpumarket event, by event name (see each contract's README for when). */

import type { EscrowEvent } from "./escrow-types.ts";
import type { GovernanceEvent } from "./governance-types.ts";
import type {
  Attestation,
  Challenge,
  Evidence,
  Machine,
  MachineKeyset,
  Measurements,
  Provider,
  RegistryParams,
  VerdictOutcome,
} from "./registry-types.ts";

export type RegistryEvent =
  | {
      event: "registry_initialized";
      data: {
        owner: string;
        treasury: string;
        params: RegistryParams;
        version: number;
        escrow: string | null;
      };
    }
  | { event: "params_updated"; data: { params: RegistryParams } }
  | { event: "escrow_set"; data: { escrow: string } }
  | { event: "provider_registered"; data: Provider }
  | { event: "provider_updated"; data: Provider }
  | { event: "provider_paused"; data: Provider }
  | { event: "provider_resumed"; data: Provider }
  | { event: "provider_retired"; data: Provider }
  | {
      event: "provider_slashed";
      data: Provider & { amount: string; reason: string; treasury: string };
    }
  | { event: "bond_withdrawn"; data: Provider & { amount: string } }
  | { event: "challenge_issued"; data: Challenge }
  | { event: "machine_added"; data: Machine }
  | { event: "machine_price_updated"; data: Machine }
  | { event: "machine_deactivated"; data: Machine }
  | { event: "machine_reactivated"; data: Machine }
  | {
      event: "machine_removed";
      data: { id: string; provider: string; machine_public_key: string };
    }
  | {
      event: "evidence_submitted";
      /**
       * The evidence (keyset_sha256: the keyset it attests), the machine's current keyset after
       * the call (null for a machine from before keysets) and the pending one, if any.
       */
      data: { machine_id: string; provider: string } & Evidence & {
          current_keyset: MachineKeyset | null;
          next_keyset: MachineKeyset | null;
        };
    }
  | {
      event: "verdict_posted";
      data: {
        machine_id: string;
        evidence_hash: string;
        verifier: string;
        approve: boolean;
        measurements: Measurements | null;
        measurement_id: string | null;
        tcb_status: string;
        reason: string;
        posted_at: string;
        /** Outcome of the evidence after this verdict, counting current verifiers only. */
        outcome: VerdictOutcome;
        approvals: number;
        rejections: number;
        /** The new attestation when this verdict completed k matching approvals. */
        attestation: Attestation | null;
        /** True when this verdict's rejection removed the machine's previous attestation. */
        attestation_revoked: boolean;
        /** The keyset that became the machine's current one with this verification, if any. */
        keyset_activated: MachineKeyset | null;
      };
    }
  | { event: "verifier_added"; data: { verifier: string; verifiers: string[]; threshold: number } }
  | {
      event: "verifier_removed";
      data: { verifier: string; verifiers: string[]; threshold: number };
    }
  | { event: "threshold_set"; data: { threshold: number; verifiers: string[] } }
  | {
      event: "measurement_allowed";
      data: { measurement_id: string; label: string; added_at: string };
    }
  | { event: "measurement_revoked"; data: { measurement_id: string } }
  | { event: "dev_mode_set"; data: { enabled: boolean } }
  | { event: "contract_upgrade_started"; data: { code_sha256: string; code_size: number } }
  | { event: "contract_migrated"; data: { from_version: number; to_version: number } };

export type GpuMarketEvent = RegistryEvent | EscrowEvent | GovernanceEvent;
