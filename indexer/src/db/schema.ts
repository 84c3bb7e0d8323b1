/**
 * The database as kysely sees it. pg returns numeric and int8 as strings and they are kept so
 * (a float parser would corrupt u128): every such column is a string here.
 */
import type { ColumnType, Generated } from "kysely";

/** numeric/int8 read as a string; written from a decimal string or a safe integer. */
type Num = ColumnType<string, string | number, string | number>;
type Json = ColumnType<unknown, string, string>;

/** A model a machine serves, as its keyset lists it. */
export interface ModelEntry {
  name: string;
  weights_sha256: string;
}

export interface IndexerCursorTable {
  id: number;
  network: string;
  contracts: Json;
  height: Num;
  block_hash: string;
  block_timestamp: Num;
  updated_at: ColumnType<Date, never, Date>;
  final_height: ColumnType<
    string | null,
    string | number | null | undefined,
    string | number | null
  >;
}

export type EventStatus = "applied" | "unknown" | "invalid";

export interface EventsTable {
  receipt_id: string;
  log_index: number;
  block_height: Num;
  block_timestamp: Num;
  block_hash: string;
  shard_id: number;
  seq: number;
  tx_hash: string | null;
  contract: string;
  predecessor: string;
  standard: string | null;
  version: string | null;
  event: string | null;
  data: ColumnType<unknown, string | null, string | null>;
  status: EventStatus;
  error: string | null;
}

export interface RegistryStateTable {
  contract: string;
  owner: string;
  treasury: string;
  contract_version: number;
  params: Json;
  threshold: ColumnType<number, number | undefined, number>;
  dev_mode: ColumnType<boolean, boolean | undefined, boolean>;
  last_code_sha256: ColumnType<string | null, string | null | undefined, string | null>;
  updated_height: Num;
}

export interface ProvidersTable {
  account_id: string;
  name: string;
  endpoint: string;
  region: string;
  bond: Num;
  status: string;
  created_at: Num;
  updated_at: Num;
  unbonding_ends_at: Num | null;
  slashed_total: ColumnType<string, string | undefined, string>;
  updated_height: Num;
}

export interface MachinesTable {
  id: Num;
  provider: string;
  region: string;
  gpu_models: string;
  eligible_until: ColumnType<string | null, string | null | undefined, string | null>;
  machine_public_key: string;
  /** The current keyset (null, models empty: a machine registered before keysets). */
  encryption_key: string | null;
  models: ColumnType<ModelEntry[], string | undefined, string>;
  keyset_sha256: string | null;
  tee_type: string;
  price_per_unit: Num;
  status: string;
  cpu_cores: number;
  ram_mib: Num;
  gpu_count: number;
  max_vram_mib: number;
  created_at: Num;
  updated_at: Num;
  evidence_hash: string;
  evidence_size: number;
  evidence_nonce: string;
  evidence_submitted_at: Num;
  verdict_outcome: ColumnType<string, string | undefined, string>;
  approvals: ColumnType<number, number | undefined, number>;
  rejections: ColumnType<number, number | undefined, number>;
  updated_height: Num;
}

export interface MachineGpusTable {
  machine_id: Num;
  position: number;
  model: string;
  count: number;
  vram_mib: number;
  driver: string;
  vbios: string;
  cc_mode: string;
}

export interface AttestationsTable {
  machine_id: Num;
  evidence_hash: string;
  nonce: string;
  measurement_id: string;
  measurements: Json;
  approvers: string[];
  verified_at: Num;
  expires_at: Num;
  paid_by: string;
  /** The keyset the attested evidence bound (null for attestations from before keysets). */
  keyset_sha256: string | null;
  updated_height: Num;
}

export interface VerdictsTable {
  receipt_id: string;
  log_index: number;
  block_height: Num;
  machine_id: Num;
  evidence_hash: string;
  verifier: string;
  approve: boolean;
  measurement_id: string | null;
  measurements: ColumnType<unknown, string | null, string | null>;
  tcb_status: string;
  reason: string;
  posted_at: Num;
  outcome: string;
  approvals: number;
  rejections: number;
}

export interface VerifiersTable {
  account_id: string;
  added_height: Num;
}

export interface AllowlistTable {
  measurement_id: string;
  label: string;
  added_at: Num;
}

export interface EscrowStateTable {
  contract: string;
  owner: string;
  treasury: string;
  arbiter: string;
  registry: string;
  params: Json;
  contract_version: number;
  last_code_sha256: ColumnType<string | null, string | null | undefined, string | null>;
  updated_height: Num;
}

export interface EscrowTokensTable {
  token: string;
  added_height: Num;
}

type NumOrNull = ColumnType<string | null, string | number | null, string | number | null>;

export interface JobsTable {
  id: Num;
  client: string;
  payer: string;
  machine_id: Num;
  provider: string;
  machine_public_key: string;
  price_per_unit: Num;
  fee_bps: number;
  keyset_sha256: string | null;
  encryption_key: string | null;
  asset: string;
  max_amount: Num;
  model_hash: string;
  input_hash: string;
  status: string;
  created_at: Num;
  accept_deadline: Num;
  deliver_within_ns: Num;
  accepted_at: NumOrNull;
  deliver_deadline: NumOrNull;
  result_hash: string | null;
  usage: NumOrNull;
  model_name: string | null;
  prompt_tokens: NumOrNull;
  completion_tokens: NumOrNull;
  chunks: NumOrNull;
  signature: string | null;
  amount_due: NumOrNull;
  delivered_at: NumOrNull;
  dispute_deadline: NumOrNull;
  disputed_at: NumOrNull;
  dispute_reason: string | null;
  arbitration_deadline: NumOrNull;
  resolution_note: string | null;
  slash_requested: boolean;
  provider_payout: NumOrNull;
  fee: NumOrNull;
  client_refund: NumOrNull;
  closed_at: NumOrNull;
  refund_reason: string | null;
  failure_code: string | null;
  settled_by: string | null;
  updated_height: Num;
}

export interface JobHistoryTable {
  receipt_id: string;
  log_index: number;
  job_id: Num;
  block_height: Num;
  block_timestamp: Num;
  event: string;
  status: string;
  data: Json;
}

export interface SessionsTable {
  id: Num;
  client: string;
  payer: string;
  client_key: string;
  machine_id: Num;
  provider: string;
  machine_public_key: string;
  price_per_unit: Num;
  fee_bps: number;
  keyset_sha256: string;
  encryption_key: string;
  asset: string;
  budget: Num;
  claimed: Num;
  nonce: Num;
  voucher_signature: string | null;
  status: string;
  opened_at: Num;
  expires_at: Num;
  closed_by: string | null;
  closing_at: NumOrNull;
  dispute_deadline: NumOrNull;
  disputed_at: NumOrNull;
  dispute_reason: string | null;
  arbitration_deadline: NumOrNull;
  resolution_note: string | null;
  slash_requested: boolean;
  provider_payout: NumOrNull;
  fee: NumOrNull;
  client_refund: NumOrNull;
  closed_at: NumOrNull;
  settled_by: string | null;
  updated_height: Num;
}

export interface SessionHistoryTable {
  receipt_id: string;
  log_index: number;
  session_id: Num;
  block_height: Num;
  block_timestamp: Num;
  event: string;
  status: string;
  data: Json;
}

export interface BalancesTable {
  account_id: string;
  asset: string;
  amount: Num;
  updated_height: Num;
}

export interface AllowancesTable {
  owner: string;
  spender: string;
  asset: string;
  limit_amount: Num;
  period_ns: Num;
  period_start: Num;
  spent: Num;
  updated_height: Num;
}

export interface ApprovalsTable {
  id: Num;
  payer: string;
  client: string;
  asset: string;
  max_amount: Num;
  request: Json;
  requested_at: Num;
  status: string;
  rejected_by: string | null;
  updated_height: Num;
}

export interface EscrowStorageTable {
  account_id: string;
  total: Num;
  available: Num;
  updated_height: Num;
}

export interface GovernanceStateTable {
  contract: string;
  config: Json;
  metadata: Json;
  total_supply: Num;
  contract_version: number;
  last_code_sha256: ColumnType<string | null, string | null | undefined, string | null>;
  updated_height: Num;
}

export interface TokenHoldersTable {
  account_id: string;
  balance: Num;
  updated_height: Num;
}

export interface DelegationsTable {
  delegator: string;
  delegate: string;
  updated_height: Num;
}

export interface DelegatesTable {
  account_id: string;
  votes: Num;
  updated_height: Num;
}

export interface ProposalsTable {
  id: Num;
  proposer: string;
  description: string;
  actions: Json;
  created_height: Num;
  snapshot_height: Num;
  vote_end_height: Num;
  quorum: Num;
  votes_for: Num;
  votes_against: Num;
  votes_abstain: Num;
  stage: string;
  eta_height: NumOrNull;
  executed_actions: number;
  failure: string | null;
  canceled_by: string | null;
  updated_height: Num;
}

export interface VotesTable {
  proposal_id: Num;
  voter: string;
  support: string;
  weight: Num;
  reason: string;
  block_height: Num;
}

export interface BlobsTable {
  code_sha256: string;
  code_hash: string;
  size: number;
  payer: string;
  stored_height: Num;
  proposals: Json;
}

export interface GovernanceStorageTable {
  account_id: string;
  total: Num;
  available: Num;
  registered: boolean;
  updated_height: Num;
}

export interface Database {
  governance_state: GovernanceStateTable;
  token_holders: TokenHoldersTable;
  delegations: DelegationsTable;
  delegates: DelegatesTable;
  proposals: ProposalsTable;
  votes: VotesTable;
  blobs: BlobsTable;
  governance_storage: GovernanceStorageTable;
  escrow_state: EscrowStateTable;
  escrow_tokens: EscrowTokensTable;
  jobs: JobsTable;
  job_history: JobHistoryTable;
  sessions: SessionsTable;
  session_history: SessionHistoryTable;
  balances: BalancesTable;
  allowances: AllowancesTable;
  approvals: ApprovalsTable;
  escrow_storage: EscrowStorageTable;
  indexer_cursor: IndexerCursorTable;
  events: EventsTable;
  registry_state: RegistryStateTable;
  providers: ProvidersTable;
  machines: MachinesTable;
  machine_gpus: MachineGpusTable;
  attestations: AttestationsTable;
  verdicts: VerdictsTable;
  verifiers: VerifiersTable;
  allowlist: AllowlistTable;
}

export type { Generated };
