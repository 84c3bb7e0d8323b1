/**
 * Schemas of the escrow's gpumarket 1.0.0 events, from contracts/common/src/escrow-types.ts.
 * Each event's `data` is an array of exactly these objects. The fields escrow version 2 added
 * (keyset, receipt, failure) are optional, so events of version 1 still decode (as null); so are
 * the session lifetime params of version 4 (params of earlier versions lack them). Sessions
 * (version 4) are new events, checked as strictly as the contract writes them: keys, hashes and
 * signatures in their one spelling.
 */
import { FAILURE_CODES } from "../../../contracts/common/src/inference-messages.ts";
import {
  bool,
  type Check,
  count,
  extend,
  type Infer,
  intIn,
  matching,
  nullable,
  object,
  oneOf,
  optional,
  str,
  u64,
  u128,
} from "./schema.ts";

const params = object({
  fee_bps: count,
  dispute_window_ns: u64,
  arbitration_window_ns: u64,
  min_accept_ns: u64,
  max_accept_ns: u64,
  min_deliver_ns: u64,
  max_deliver_ns: u64,
  max_page_size: count,
  min_session_ns: optional(u64),
  max_session_ns: optional(u64),
});

const jobShape = {
  id: u64,
  client: str,
  payer: str,
  machine_id: u64,
  provider: str,
  machine_public_key: str,
  price_per_unit: u128,
  fee_bps: count,
  keyset_sha256: optional(nullable(str)),
  encryption_key: optional(nullable(str)),
  asset: str,
  max_amount: u128,
  model_hash: str,
  input_hash: str,
  status: oneOf(
    "requested",
    "accepted",
    "delivered",
    "disputed",
    "settled",
    "resolved",
    "refunded",
  ),
  created_at: u64,
  accept_deadline: u64,
  deliver_within_ns: u64,
  accepted_at: nullable(u64),
  deliver_deadline: nullable(u64),
  result_hash: nullable(str),
  usage: nullable(u128),
  model_name: optional(nullable(str)),
  prompt_tokens: optional(nullable(u64)),
  completion_tokens: optional(nullable(u64)),
  chunks: optional(nullable(u64)),
  signature: nullable(str),
  amount_due: nullable(u128),
  delivered_at: nullable(u64),
  dispute_deadline: nullable(u64),
  disputed_at: nullable(u64),
  dispute_reason: nullable(str),
  arbitration_deadline: nullable(u64),
  resolution_note: nullable(str),
  slash_requested: bool,
  provider_payout: nullable(u128),
  fee: nullable(u128),
  client_refund: nullable(u128),
  closed_at: nullable(u64),
  refund_reason: nullable(
    oneOf(
      "cancelled",
      "accept_timeout",
      "deliver_timeout",
      "provider_failed",
      "provider_ineligible",
    ),
  ),
  failure_code: optional(nullable(oneOf(...FAILURE_CODES))),
  settled_by: nullable(oneOf("client", "dispute_window", "arbitration_timeout")),
};
export const job = object(jobShape);
export type Job = Infer<typeof job>;

const requestShape = {
  client: str,
  payer: str,
  machine_id: u64,
  asset: str,
  max_amount: u128,
  model_hash: str,
  input_hash: str,
  keyset_sha256: optional(str),
  accept_within_ns: u64,
  deliver_within_ns: u64,
  max_price_per_unit: nullable(u128),
  source: oneOf("attached", "token", "balance", "allowance", "approval"),
};
const request = object(requestShape);

const allowanceShape = {
  owner: str,
  spender: str,
  asset: str,
  limit: u128,
  period_ns: u64,
  period_start: u64,
  spent: u128,
};
export const allowance = object(allowanceShape);
export type Allowance = Infer<typeof allowance>;

const approvalShape = { id: u64, request, requested_at: u64 };
const balanceShape = { account_id: str, asset: str, amount: u128 };
const storageShape = { account_id: str, amount: u128, total: u128, available: u128 };

const ED25519_KEY = matching(/^ed25519:[1-9A-HJ-NP-Za-km-z]{32,44}$/, '"ed25519:<base58>"');
const SHA256_HEX = matching(/^[0-9a-f]{64}$/, "64 lowercase hex digits");
const SIGNATURE_HEX = matching(/^[0-9a-f]{128}$/, "128 lowercase hex digits");
const ENCRYPTION_KEY = matching(/^x25519:[0-9a-f]{64}$/, '"x25519:" and 64 lowercase hex digits');

const sessionShape = {
  id: u64,
  client: str,
  payer: str,
  client_key: ED25519_KEY,
  machine_id: u64,
  provider: str,
  machine_public_key: ED25519_KEY,
  price_per_unit: u128,
  fee_bps: intIn(0, 10_000),
  keyset_sha256: SHA256_HEX,
  encryption_key: ENCRYPTION_KEY,
  asset: str,
  budget: u128,
  claimed: u128,
  nonce: u64,
  voucher_signature: nullable(SIGNATURE_HEX),
  status: oneOf("open", "closing", "disputed", "settled", "resolved"),
  opened_at: u64,
  expires_at: u64,
  closed_by: nullable(oneOf("provider", "client")),
  closing_at: nullable(u64),
  dispute_deadline: nullable(u64),
  disputed_at: nullable(u64),
  dispute_reason: nullable(str),
  arbitration_deadline: nullable(u64),
  resolution_note: nullable(str),
  slash_requested: bool,
  provider_payout: nullable(u128),
  fee: nullable(u128),
  client_refund: nullable(u128),
  closed_at: nullable(u64),
  settled_by: nullable(oneOf("counterparty", "dispute_window", "arbitration_timeout")),
};
export const session = object(sessionShape);
export type Session = Infer<typeof session>;

/** A session asked for: sessions have no approval queue, so never the "approval" source. */
const sessionRequestShape = {
  client: str,
  payer: str,
  machine_id: u64,
  client_key: ED25519_KEY,
  asset: str,
  budget: u128,
  keyset_sha256: SHA256_HEX,
  max_price_per_unit: u128,
  expires_within_ns: u64,
  source: oneOf("attached", "token", "balance", "allowance"),
};

export const escrowEvents = {
  escrow_initialized: object({
    owner: str,
    treasury: str,
    arbiter: str,
    registry: str,
    params,
    version: count,
  }),
  params_updated: object({ params }),
  arbiter_set: object({ arbiter: str }),
  treasury_set: object({ treasury: str }),
  token_allowed: object({ token: str }),
  token_disallowed: object({ token: str }),
  contract_upgrade_started: object({ code_sha256: str, code_size: count }),
  contract_migrated: object({ from_version: count, to_version: count }),
  storage_deposit: object(storageShape),
  storage_withdraw: object(storageShape),
  deposit: extend(balanceShape, { deposited: u128 }),
  withdraw: extend(balanceShape, { withdrawn: u128 }),
  withdraw_failed: extend(balanceShape, { restored: u128 }),
  allowance_set: allowance,
  allowance_removed: object({ owner: str, spender: str, asset: str }),
  approval_requested: object(approvalShape),
  approval_granted: object(approvalShape),
  approval_rejected: extend(approvalShape, { rejected_by: str }),
  job_pending: extend(requestShape, { allowance: nullable(allowance) }),
  job_created: job,
  job_rejected: extend(requestShape, {
    reason: str,
    refunded_to: str,
    allowance: nullable(allowance),
  }),
  job_accepted: job,
  job_delivered: job,
  job_settled: job,
  job_cancelled: job,
  job_reclaimed: job,
  job_failed: job,
  job_disputed: job,
  dispute_resolved: job,
  session_pending: extend(sessionRequestShape, { allowance: nullable(allowance) }),
  session_opened: session,
  session_rejected: extend(sessionRequestShape, {
    reason: str,
    refunded_to: str,
    allowance: nullable(allowance),
  }),
  session_claimed: session,
  session_closing: session,
  session_disputed: session,
  session_settled: session,
  session_resolved: session,
  session_slash_requested: object({
    session_id: u64,
    provider: str,
    machine_id: u64,
    arbiter: str,
    reason: str,
  }),
  slash_requested: object({
    job_id: u64,
    provider: str,
    machine_id: u64,
    arbiter: str,
    reason: str,
  }),
} satisfies Record<string, Check<unknown>>;

export type EscrowEventName = keyof typeof escrowEvents;
export type EscrowEventData<N extends EscrowEventName> = Infer<(typeof escrowEvents)[N]>;
