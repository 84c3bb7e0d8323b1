/** What the verifier service needs from the registry; implemented over NEAR RPC in near-registry.ts. */
import type { TeeType } from "../check.ts";
import type { Measurements } from "../measurements.ts";

export interface PendingEvidence {
  machineId: string;
  provider: string;
  teeType: TeeType;
  machineKey: string;
  evidenceHash: string;
  nonce: string;
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
  /** The registry's expected REPORTDATA (hex) for a machine's evidence. */
  expectedReportData(machineId: string, evidenceHash: string): Promise<string>;
  /** The evidence bytes (from the submitting transaction), or null if not found (yet). */
  evidenceBytes(pending: PendingEvidence): Promise<Uint8Array | null>;
  postVerdict(args: VerdictArgs): Promise<void>;
}
