/**
 * The escrow's records as they are stored, returned by views and carried in events, and its
 * events. Shared with the indexer and scripts. Amounts are u128 decimal strings (yoctoNEAR or
 * token base units), times are block timestamps in nanoseconds as u64 decimal strings.
 */

import type { FailureCode } from "./inference-messages.ts";

/** "NEAR" for native NEAR, otherwise the NEP-141 token's account id (which cannot be upper case). */
export type Asset = string;
export const NEAR_ASSET = "NEAR";

export type JobStatus =
  | "requested"
  | "accepted"
  | "delivered"
  | "disputed"
  | "settled"
  | "resolved"
  | "refunded";

/**
 * Why a job was refunded in full. provider_ineligible: the client reclaimed it before its deadline
 * because the machine was no longer eligible (provider slashed or inactive, machine removed,
 * attestation lapsed, measurement revoked).
 */
export type RefundReason =
  | "cancelled"
  | "accept_timeout"
  | "deliver_timeout"
  | "provider_failed"
  | "provider_ineligible";

/** Who closed a delivered job with the amount due. */
export type SettledBy = "client" | "dispute_window" | "arbitration_timeout";

export interface EscrowParams {
  /** Protocol fee on what the provider is paid, in basis points (0 to 10000). */
  fee_bps: number;
  dispute_window_ns: string;
  /** After a dispute is opened, how long the arbiter has before anyone may settle it as delivered. */
  arbitration_window_ns: string;
  min_accept_ns: string;
  max_accept_ns: string;
  min_deliver_ns: string;
  max_deliver_ns: string;
  max_page_size: number;
  /** Bounds of a session's lifetime (expires_within_ns at open_session). */
  min_session_ns: string;
  max_session_ns: string;
}

/**
 * A provider's work that a dispute may still find bad (escrow view provider_exposure, asked by
 * the registry's withdraw_bond): its jobs delivered or disputed and not closed yet, and when the
 * last such job closed (null: none ever did).
 */
export interface ProviderExposure {
  account_id: string;
  /** Delivered or disputed jobs, and sessions (open, closing or disputed). */
  open_jobs: number;
  last_closed_at: string | null;
}

export interface Job {
  id: string;
  /** Who asked for the job: the payer itself or a spender using the payer's allowance. */
  client: string;
  /** Whose money is escrowed; refunds go to the payer's balance. */
  payer: string;
  machine_id: string;
  provider: string;
  /** Snapshots taken from the registry when the job was created. */
  machine_public_key: string;
  price_per_unit: string;
  fee_bps: number;
  /**
   * The machine's attested keyset the client encrypted to, and its X25519 key, snapshotted at
   * creation. Null only for jobs created by escrow version 1, before keysets existed.
   */
  keyset_sha256: string | null;
  encryption_key: string | null;
  asset: Asset;
  max_amount: string;
  /** The weights_sha256 of the model asked for (one of the machine's attested models). */
  model_hash: string;
  /** sha256 of the request envelope the client uploads to the machine. */
  input_hash: string;
  status: JobStatus;
  created_at: string;
  accept_deadline: string;
  deliver_within_ns: string;
  accepted_at: string | null;
  deliver_deadline: string | null;
  /** From the delivery receipt: result_hash is its response_sha256, usage = prompt + completion. */
  result_hash: string | null;
  usage: string | null;
  model_name: string | null;
  prompt_tokens: string | null;
  completion_tokens: string | null;
  chunks: string | null;
  /** The machine key's signature over the receipt (128 hex). */
  signature: string | null;
  amount_due: string | null;
  delivered_at: string | null;
  dispute_deadline: string | null;
  disputed_at: string | null;
  dispute_reason: string | null;
  arbitration_deadline: string | null;
  resolution_note: string | null;
  slash_requested: boolean;
  /** Set when the job is closed: what each party was credited. */
  provider_payout: string | null;
  fee: string | null;
  client_refund: string | null;
  closed_at: string | null;
  refund_reason: RefundReason | null;
  /** Set when the provider gave the job back unserved (fail_job; refund_reason "provider_failed"). */
  failure_code: FailureCode | null;
  settled_by: SettledBy | null;
}

/**
 * An inference session: a budget escrowed once for many requests to one machine, paid off-chain by
 * vouchers signed with the client's ed25519 key (inference-messages.ts). open: serving, the
 * provider may claim vouchers; closing: closed by the provider, or by the client after expires_at,
 * the provider may still claim and the client dispute until dispute_deadline; disputed: the
 * arbiter splits the budget until arbitration_deadline; settled (the last voucher claimed is
 * paid), resolved (the arbiter's split).
 */
export type SessionStatus = "open" | "closing" | "disputed" | "settled" | "resolved";

/** Who closed a session with its last claimed voucher. */
export type SessionSettledBy = "counterparty" | "dispute_window" | "arbitration_timeout";

export interface Session {
  id: string;
  /** Who opened it and holds the client key: the payer itself or a spender of its allowance. */
  client: string;
  payer: string;
  /** The key that signs vouchers, "ed25519:<base58>". */
  client_key: string;
  machine_id: string;
  /** Snapshots taken from the registry when the session was opened. */
  provider: string;
  machine_public_key: string;
  price_per_unit: string;
  fee_bps: number;
  keyset_sha256: string;
  encryption_key: string;
  asset: Asset;
  budget: string;
  /** The last voucher the provider claimed: its amount, nonce ("0": none yet) and signature. */
  claimed: string;
  nonce: string;
  voucher_signature: string | null;
  status: SessionStatus;
  opened_at: string;
  expires_at: string;
  closed_by: "provider" | "client" | null;
  closing_at: string | null;
  dispute_deadline: string | null;
  disputed_at: string | null;
  dispute_reason: string | null;
  arbitration_deadline: string | null;
  resolution_note: string | null;
  slash_requested: boolean;
  /** Set when the session is settled or resolved: what each party was credited. */
  provider_payout: string | null;
  fee: string | null;
  client_refund: string | null;
  closed_at: string | null;
  settled_by: SessionSettledBy | null;
}

/** A session asked for but not opened yet: carried to the registry's answer. */
export interface SessionRequest {
  client: string;
  payer: string;
  machine_id: string;
  client_key: string;
  asset: Asset;
  budget: string;
  keyset_sha256: string;
  max_price_per_unit: string;
  expires_within_ns: string;
  source: FundingSource;
}

/** What deliver_job takes besides the job id: the receipt fields the machine key signed. */
export interface DeliveryReceipt {
  model: string;
  weights_sha256: string;
  request_sha256: string;
  response_sha256: string;
  prompt_tokens: string;
  completion_tokens: string;
  chunks: string;
}

/** How a job's funds reached the escrow. */
export type FundingSource = "attached" | "token" | "balance" | "allowance" | "approval";

/** A job asked for but not created yet: carried to the eligibility callback. */
export interface JobRequest {
  client: string;
  payer: string;
  machine_id: string;
  asset: Asset;
  max_amount: string;
  model_hash: string;
  input_hash: string;
  /** The keyset the client encrypted to: must still be the machine's current one. */
  keyset_sha256: string;
  accept_within_ns: string;
  deliver_within_ns: string;
  /** Required since escrow version 3; null only in approval requests stored before. */
  max_price_per_unit: string | null;
  source: FundingSource;
}

export interface Allowance {
  owner: string;
  spender: string;
  asset: Asset;
  limit: string;
  period_ns: string;
  period_start: string;
  spent: string;
}

/** A spender's job above its allowance, waiting for the owner. Holds no funds. */
export interface Approval {
  id: string;
  request: JobRequest;
  requested_at: string;
}

export interface StorageBalance {
  total: string;
  available: string;
}

export interface AssetTotals {
  asset: Asset;
  /** Held for jobs (created, or waiting for the registry's answer). */
  escrowed: string;
  /** Credited to balances (payouts, refunds, fees, prepaid deposits), withdrawable. */
  credited: string;
}

export interface BalanceEntry {
  account_id: string;
  asset: Asset;
  amount: string;
}

export type EscrowEvent =
  | {
      event: "escrow_initialized";
      data: {
        owner: string;
        treasury: string;
        arbiter: string;
        registry: string;
        params: EscrowParams;
        version: number;
      };
    }
  | { event: "params_updated"; data: { params: EscrowParams } }
  | { event: "arbiter_set"; data: { arbiter: string } }
  | { event: "treasury_set"; data: { treasury: string } }
  | { event: "token_allowed"; data: { token: string } }
  | { event: "token_disallowed"; data: { token: string } }
  | { event: "contract_upgrade_started"; data: { code_sha256: string; code_size: number } }
  | { event: "contract_migrated"; data: { from_version: number; to_version: number } }
  | { event: "storage_deposit"; data: { account_id: string; amount: string } & StorageBalance }
  | { event: "storage_withdraw"; data: { account_id: string; amount: string } & StorageBalance }
  | { event: "deposit"; data: BalanceEntry & { deposited: string } }
  | { event: "withdraw"; data: BalanceEntry & { withdrawn: string } }
  | { event: "withdraw_failed"; data: BalanceEntry & { restored: string } }
  | { event: "allowance_set"; data: Allowance }
  | { event: "allowance_removed"; data: { owner: string; spender: string; asset: Asset } }
  | { event: "approval_requested"; data: Approval }
  | { event: "approval_granted"; data: Approval }
  | { event: "approval_rejected"; data: Approval & { rejected_by: string } }
  | { event: "job_pending"; data: JobRequest & { allowance: Allowance | null } }
  | { event: "job_created"; data: Job }
  | {
      event: "job_rejected";
      /** `allowance`: the allowance the refused amount went back to, if it came from one. */
      data: JobRequest & { reason: string; refunded_to: string; allowance: Allowance | null };
    }
  | { event: "job_accepted"; data: Job }
  | { event: "job_delivered"; data: Job }
  | { event: "job_settled"; data: Job }
  | { event: "job_cancelled"; data: Job }
  | { event: "job_reclaimed"; data: Job }
  | { event: "job_failed"; data: Job }
  | { event: "job_disputed"; data: Job }
  | { event: "dispute_resolved"; data: Job }
  | { event: "session_pending"; data: SessionRequest & { allowance: Allowance | null } }
  | { event: "session_opened"; data: Session }
  | {
      event: "session_rejected";
      data: SessionRequest & { reason: string; refunded_to: string; allowance: Allowance | null };
    }
  | { event: "session_claimed"; data: Session }
  | { event: "session_closing"; data: Session }
  | { event: "session_disputed"; data: Session }
  | { event: "session_settled"; data: Session }
  | { event: "session_resolved"; data: Session }
  | {
      event: "session_slash_requested";
      data: {
        session_id: string;
        provider: string;
        machine_id: string;
        arbiter: string;
        reason: string;
      };
    }
  | {
      event: "slash_requested";
      data: {
        job_id: string;
        provider: string;
        machine_id: string;
        arbiter: string;
        reason: string;
      };
    };
