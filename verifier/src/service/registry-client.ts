/** What the verifier service needs from the registry; implemented over NEAR RPC in near-registry.ts. */
import type { TeeType } from "../check.ts";
import type { Measurements } from "../measurements.ts";
import type { Keyset } from "../report-data.ts";

export interface PendingEvidence {
  machineId: string;
  provider: string;
  teeType: TeeType;
  /** The signing key the evidence attests (the machine's current key when it attests no keyset). */
  machineKey: string;
  evidenceHash: string;
  nonce: string;
  /**
   * The keyset the evidence attests, as the registry lists it (account = provider, registry =
   * the registry's account), and the keyset_sha256 the registry bound the evidence to; both null
   * for evidence submitted before keysets.
   */
  keyset: Keyset | null;
  keysetSha256: string | null;
  /** Block timestamp (ns) of the submitting receipt: where to look for the bytes. */
  submittedAt: string;
  /** Verifiers that already posted on this evidence. */
  verifiers: string[];
}

export interface VerdictArgs {
  machine_id: string;
  evidence_hash: string;
  approve: boolean;
  measurements: Measurements | null;
  tcb_status: string;
  reason: string;
}

export interface RegistryClient {
  /** Machines whose latest evidence still awaits verdicts. */
  pendingEvidence(): Promise<PendingEvidence[]>;
  /** The registry's governed params.allowed_tcb_statuses. */
  allowedTcbStatuses(): Promise<string[]>;
  /** The registry's expected REPORTDATA (hex) for a machine's evidence. */
  expectedReportData(machineId: string, evidenceHash: string): Promise<string>;
  /** The evidence bytes (from the submitting transaction), or null if not found (yet). */
  evidenceBytes(pending: PendingEvidence): Promise<Uint8Array | null>;
  postVerdict(args: VerdictArgs): Promise<void>;
}
