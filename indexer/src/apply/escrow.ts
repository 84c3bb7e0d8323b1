/**
 * Applies escrow events (contracts/escrow) to its rows (state.ts). Jobs are written as each event carries
 * them, with every event kept in job_history; sessions likewise (sessions.ts). Credited balances
 * follow the contract's books (escrow-books.ts):
 * deposit, withdraw and withdraw_failed carry the new balance itself; the other changes are
 * derived exactly as the contract makes them:
 * - job_pending paid from a balance (source balance or allowance): the payer's balance loses
 *   max_amount; approval_granted likewise (its job_pending then has source approval);
 * - job_rejected of a balance-funded request: max_amount comes back to the payer's balance (and
 *   to the allowance it was spent from, which the event carries);
 * - a job closing (closed_at set for the first time): provider_payout to the provider, fee to the
 *   treasury of that moment, client_refund to the payer;
 * - sessions: the same for session_pending, session_rejected and a session's close (sessions.ts).
 * A debit that would take a balance below zero means the index missed something: ConsistencyError.
 */
import type { EscrowEventData, EscrowEventName, Job } from "../decode/escrow-events.ts";
import { type ApplyContext, ConsistencyError } from "./context.ts";
import {
  credit,
  creditClose,
  debit,
  requireState,
  saveAllowance,
  setBalance,
} from "./escrow-books.ts";
import { sessionHandlers } from "./sessions.ts";
import type { Row } from "./state.ts";

type Handler<N extends EscrowEventName> = (ctx: ApplyContext, data: EscrowEventData<N>) => void;

/**
 * The session lifetime params an escrow migrated to version 4 starts with (the contract's
 * DEFAULT_PARAMS, contracts/escrow/src/state.ts: 60 s and 7 days), which no event states.
 */
const SESSION_PARAM_DEFAULTS = {
  min_session_ns: (60n * 1_000_000_000n).toString(),
  max_session_ns: (7n * 86_400n * 1_000_000_000n).toString(),
};

function updateState(
  ctx: ApplyContext,
  values: {
    params?: unknown;
    arbiter?: string;
    treasury?: string;
    contract_version?: number;
    last_code_sha256?: string;
  },
): void {
  const row = requireState(ctx);
  ctx.s.put("escrow_state", [ctx.contract], { ...row, ...values, updated_height: ctx.height });
}

/** A NEP-145 storage balance as the event carries it. */
function saveStorage(
  ctx: ApplyContext,
  d: { account_id: string; total: string; available: string },
): void {
  ctx.s.put("escrow_storage", [d.account_id], {
    account_id: d.account_id,
    total: d.total,
    available: d.available,
    updated_height: ctx.height,
  });
}

/**
 * The job's row, column by column: fields escrow version 2 added are null in events of version 1
 * (which lack them); a field a later version adds is kept in job_history until it has a column.
 */
function jobRow(job: Job, height: number): Row {
  return {
    id: job.id,
    client: job.client,
    payer: job.payer,
    machine_id: job.machine_id,
    provider: job.provider,
    machine_public_key: job.machine_public_key,
    price_per_unit: job.price_per_unit,
    fee_bps: job.fee_bps,
    asset: job.asset,
    max_amount: job.max_amount,
    model_hash: job.model_hash,
    input_hash: job.input_hash,
    status: job.status,
    created_at: job.created_at,
    accept_deadline: job.accept_deadline,
    deliver_within_ns: job.deliver_within_ns,
    accepted_at: job.accepted_at,
    deliver_deadline: job.deliver_deadline,
    result_hash: job.result_hash,
    usage: job.usage,
    signature: job.signature,
    amount_due: job.amount_due,
    delivered_at: job.delivered_at,
    dispute_deadline: job.dispute_deadline,
    disputed_at: job.disputed_at,
    dispute_reason: job.dispute_reason,
    arbitration_deadline: job.arbitration_deadline,
    resolution_note: job.resolution_note,
    slash_requested: job.slash_requested,
    provider_payout: job.provider_payout,
    fee: job.fee,
    client_refund: job.client_refund,
    closed_at: job.closed_at,
    refund_reason: job.refund_reason,
    settled_by: job.settled_by,
    keyset_sha256: job.keyset_sha256 ?? null,
    encryption_key: job.encryption_key ?? null,
    model_name: job.model_name ?? null,
    prompt_tokens: job.prompt_tokens ?? null,
    completion_tokens: job.completion_tokens ?? null,
    chunks: job.chunks ?? null,
    failure_code: job.failure_code ?? null,
    updated_height: height,
  };
}

/** Writes the job as the event carries it, records the event in its history, settles a close. */
function jobEvent(ctx: ApplyContext, job: Job, event: string): void {
  const previous = ctx.s.get("jobs", [job.id]);
  if (previous === null && event !== "job_created") {
    throw new ConsistencyError(`the event names job ${job.id}, which the index does not have`);
  }
  const closing = job.closed_at !== null && (previous === null || previous.closed_at === null);
  ctx.s.put("jobs", [job.id], jobRow(job, ctx.height));
  ctx.s.append("job_history", {
    receipt_id: ctx.receiptId,
    log_index: ctx.logIndex,
    job_id: job.id,
    block_height: ctx.height,
    block_timestamp: ctx.timestampNs,
    event,
    status: job.status,
    data: job,
  });
  if (closing) creditClose(ctx, job);
}

function jobHandler(event: string) {
  return (ctx: ApplyContext, job: Job): void => jobEvent(ctx, job, event);
}

function approvalStatus(
  ctx: ApplyContext,
  id: string,
  status: "granted" | "rejected",
  rejectedBy: string | null,
): void {
  const row = ctx.s.get("approvals", [id]);
  if (row === null || row.status !== "pending") {
    throw new ConsistencyError(`approval ${id} is not pending in the index`);
  }
  ctx.s.put("approvals", [id], {
    ...row,
    status,
    rejected_by: rejectedBy,
    updated_height: ctx.height,
  });
}

export const escrowHandlers: { [N in EscrowEventName]: Handler<N> } = {
  escrow_initialized: (ctx, d) => {
    const old = ctx.s.get("escrow_state", [ctx.contract]);
    ctx.s.put("escrow_state", [ctx.contract], {
      last_code_sha256: null,
      ...old,
      contract: ctx.contract,
      owner: d.owner,
      treasury: d.treasury,
      arbiter: d.arbiter,
      registry: d.registry,
      params: d.params,
      contract_version: d.version,
      updated_height: ctx.height,
    });
  },
  params_updated: (ctx, d) => updateState(ctx, { params: d.params }),
  arbiter_set: (ctx, d) => updateState(ctx, { arbiter: d.arbiter }),
  treasury_set: (ctx, d) => updateState(ctx, { treasury: d.treasury }),
  token_allowed: (ctx, d) => {
    if (ctx.s.get("escrow_tokens", [d.token]) === null) {
      ctx.s.put("escrow_tokens", [d.token], { token: d.token, added_height: ctx.height });
    }
  },
  token_disallowed: (ctx, d) => {
    ctx.s.remove("escrow_tokens", [d.token]);
  },
  contract_upgrade_started: (ctx, d) => updateState(ctx, { last_code_sha256: d.code_sha256 }),
  contract_migrated: (ctx, d) => {
    const params = requireState(ctx).params as Record<string, unknown>;
    updateState(ctx, {
      contract_version: d.to_version,
      params: d.to_version >= 4 ? { ...SESSION_PARAM_DEFAULTS, ...params } : params,
    });
  },
  storage_deposit: saveStorage,
  storage_withdraw: saveStorage,
  deposit: (ctx, d) => setBalance(ctx, d.account_id, d.asset, d.amount),
  withdraw: (ctx, d) => setBalance(ctx, d.account_id, d.asset, d.amount),
  withdraw_failed: (ctx, d) => setBalance(ctx, d.account_id, d.asset, d.amount),
  allowance_set: saveAllowance,
  allowance_removed: (ctx, d) => {
    ctx.s.remove("allowances", [d.owner, d.spender, d.asset]);
  },
  approval_requested: (ctx, d) => {
    ctx.s.put("approvals", [d.id], {
      id: d.id,
      payer: d.request.payer,
      client: d.request.client,
      asset: d.request.asset,
      max_amount: d.request.max_amount,
      request: d.request,
      requested_at: d.requested_at,
      status: "pending",
      rejected_by: null,
      updated_height: ctx.height,
    });
  },
  approval_granted: (ctx, d) => {
    const { payer, asset, max_amount } = d.request;
    debit(ctx, payer, asset, max_amount);
    approvalStatus(ctx, d.id, "granted", null);
  },
  approval_rejected: (ctx, d) => approvalStatus(ctx, d.id, "rejected", d.rejected_by),
  job_pending: (ctx, d) => {
    if (d.source === "balance" || d.source === "allowance") {
      debit(ctx, d.payer, d.asset, d.max_amount);
    }
    if (d.allowance !== null) saveAllowance(ctx, d.allowance);
  },
  job_created: jobHandler("job_created"),
  job_rejected: (ctx, d) => {
    // Attached NEAR is sent back and tokens are returned by ft_transfer_call: no balance moves.
    if (d.source !== "attached" && d.source !== "token") {
      credit(ctx, d.payer, d.asset, d.max_amount);
    }
    if (d.allowance !== null) saveAllowance(ctx, d.allowance);
  },
  job_accepted: jobHandler("job_accepted"),
  job_delivered: jobHandler("job_delivered"),
  job_settled: jobHandler("job_settled"),
  job_cancelled: jobHandler("job_cancelled"),
  job_reclaimed: jobHandler("job_reclaimed"),
  job_failed: jobHandler("job_failed"),
  job_disputed: jobHandler("job_disputed"),
  dispute_resolved: jobHandler("dispute_resolved"),
  ...sessionHandlers,
  slash_requested: (ctx, d) => {
    const job = ctx.s.get("jobs", [d.job_id]);
    if (job === null) {
      throw new ConsistencyError(`the event names job ${d.job_id}, which the index does not have`);
    }
    ctx.s.put("jobs", [d.job_id], { ...job, slash_requested: true, updated_height: ctx.height });
    ctx.s.append("job_history", {
      receipt_id: ctx.receiptId,
      log_index: ctx.logIndex,
      job_id: d.job_id,
      block_height: ctx.height,
      block_timestamp: ctx.timestampNs,
      event: "slash_requested",
      status: job.status,
      data: d,
    });
  },
};
