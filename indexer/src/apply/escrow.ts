/**
 * Applies escrow events (contracts/escrow) to its tables. Jobs are written as each event carries
 * them, with every event kept in job_history. Credited balances follow the contract's books:
 * deposit, withdraw and withdraw_failed carry the new balance itself; the other changes are
 * derived exactly as the contract makes them:
 * - job_pending paid from a balance (source balance or allowance): the payer's balance loses
 *   max_amount; approval_granted likewise (its job_pending then has source approval);
 * - job_rejected of a balance-funded request: max_amount comes back to the payer's balance (and
 *   to the allowance it was spent from, which the event carries);
 * - a job closing (closed_at set for the first time): provider_payout to the provider, fee to the
 *   treasury of that moment, client_refund to the payer.
 * A debit that would take a balance below zero means the index missed something: ConsistencyError.
 */
import type { Allowance, EscrowEventData, EscrowEventName, Job } from "../decode/escrow-events.ts";
import { type ApplyContext, ConsistencyError } from "./context.ts";

type Handler<N extends EscrowEventName> = (
  ctx: ApplyContext,
  data: EscrowEventData<N>,
) => Promise<void>;

type Json = Record<string, unknown>;

async function requireState(ctx: ApplyContext): Promise<{ treasury: string }> {
  const row = await ctx.tx
    .selectFrom("escrow_state")
    .select("treasury")
    .where("contract", "=", ctx.contract)
    .executeTakeFirst();
  if (row === undefined) {
    throw new ConsistencyError(
      `escrow ${ctx.contract} has no escrow_initialized event in the index`,
    );
  }
  return row;
}

async function updateState(
  ctx: ApplyContext,
  values: {
    params?: unknown;
    arbiter?: string;
    treasury?: string;
    contract_version?: number;
    last_code_sha256?: string;
  },
): Promise<void> {
  await requireState(ctx);
  const { params, ...rest } = values;
  await ctx.tx
    .updateTable("escrow_state")
    .set({
      ...rest,
      ...(params === undefined ? {} : { params: JSON.stringify(params) }),
      updated_height: ctx.height,
    })
    .where("contract", "=", ctx.contract)
    .execute();
}

async function setBalance(ctx: ApplyContext, account: string, asset: string, amount: string) {
  if (amount === "0") {
    await ctx.tx
      .deleteFrom("balances")
      .where("account_id", "=", account)
      .where("asset", "=", asset)
      .execute();
    return;
  }
  const row = { account_id: account, asset, amount, updated_height: ctx.height };
  await ctx.tx
    .insertInto("balances")
    .values(row)
    .onConflict((oc) => oc.columns(["account_id", "asset"]).doUpdateSet(row))
    .execute();
}

async function balanceOf(ctx: ApplyContext, account: string, asset: string): Promise<bigint> {
  const row = await ctx.tx
    .selectFrom("balances")
    .select("amount")
    .where("account_id", "=", account)
    .where("asset", "=", asset)
    .executeTakeFirst();
  return BigInt(row?.amount ?? "0");
}

async function credit(ctx: ApplyContext, account: string, asset: string, amount: string | null) {
  if (amount === null || amount === "0") return;
  const next = (await balanceOf(ctx, account, asset)) + BigInt(amount);
  await setBalance(ctx, account, asset, next.toString());
}

/** Checks that `account` holds `amount` (before any write), then takes it. */
async function debit(ctx: ApplyContext, account: string, asset: string, amount: string) {
  const held = await balanceOf(ctx, account, asset);
  if (held < BigInt(amount)) {
    throw new ConsistencyError(
      `${account} pays ${amount} ${asset} from a balance of ${held} in the index`,
    );
  }
  await setBalance(ctx, account, asset, (held - BigInt(amount)).toString());
}

async function saveAllowance(ctx: ApplyContext, a: Allowance): Promise<void> {
  const row = {
    owner: a.owner,
    spender: a.spender,
    asset: a.asset,
    limit_amount: a.limit,
    period_ns: a.period_ns,
    period_start: a.period_start,
    spent: a.spent,
    updated_height: ctx.height,
  };
  await ctx.tx
    .insertInto("allowances")
    .values(row)
    .onConflict((oc) => oc.columns(["owner", "spender", "asset"]).doUpdateSet(row))
    .execute();
}

/** A NEP-145 storage balance as the event carries it. */
async function saveStorage(
  ctx: ApplyContext,
  d: { account_id: string; total: string; available: string },
): Promise<void> {
  const row = {
    account_id: d.account_id,
    total: d.total,
    available: d.available,
    updated_height: ctx.height,
  };
  await ctx.tx
    .insertInto("escrow_storage")
    .values(row)
    .onConflict((oc) => oc.column("account_id").doUpdateSet(row))
    .execute();
}

/** The fields escrow version 2 added, null in events of version 1 (which lack them). */
function receiptFields(job: Job) {
  return {
    keyset_sha256: job.keyset_sha256 ?? null,
    encryption_key: job.encryption_key ?? null,
    model_name: job.model_name ?? null,
    prompt_tokens: job.prompt_tokens ?? null,
    completion_tokens: job.completion_tokens ?? null,
    chunks: job.chunks ?? null,
    failure_code: job.failure_code ?? null,
  };
}

/** Writes the job as the event carries it, records the event in its history, settles a close. */
async function jobEvent(ctx: ApplyContext, job: Job, event: string): Promise<void> {
  const previous = await ctx.tx
    .selectFrom("jobs")
    .select("closed_at")
    .where("id", "=", job.id)
    .executeTakeFirst();
  if (previous === undefined && event !== "job_created") {
    throw new ConsistencyError(`the event names job ${job.id}, which the index does not have`);
  }
  const closing = job.closed_at !== null && (previous === undefined || previous.closed_at === null);
  const treasury = closing ? (await requireState(ctx)).treasury : "";
  const row = { ...job, ...receiptFields(job), updated_height: ctx.height };
  await ctx.tx
    .insertInto("jobs")
    .values(row)
    .onConflict((oc) => oc.column("id").doUpdateSet(row))
    .execute();
  await ctx.tx
    .insertInto("job_history")
    .values({
      receipt_id: ctx.receiptId,
      log_index: ctx.logIndex,
      job_id: job.id,
      block_height: ctx.height,
      block_timestamp: ctx.timestampNs,
      event,
      status: job.status,
      data: JSON.stringify(job),
    })
    .execute();
  if (closing) {
    await credit(ctx, job.provider, job.asset, job.provider_payout);
    await credit(ctx, treasury, job.asset, job.fee);
    await credit(ctx, job.payer, job.asset, job.client_refund);
  }
}

function jobHandler(event: string) {
  return (ctx: ApplyContext, job: Job): Promise<void> => jobEvent(ctx, job, event);
}

async function approvalStatus(
  ctx: ApplyContext,
  id: string,
  status: "granted" | "rejected",
  rejectedBy: string | null,
): Promise<void> {
  const updated = await ctx.tx
    .updateTable("approvals")
    .set({ status, rejected_by: rejectedBy, updated_height: ctx.height })
    .where("id", "=", id)
    .where("status", "=", "pending")
    .returning("id")
    .executeTakeFirst();
  if (updated === undefined) {
    throw new ConsistencyError(`approval ${id} is not pending in the index`);
  }
}

export const escrowHandlers: { [N in EscrowEventName]: Handler<N> } = {
  escrow_initialized: async (ctx, d) => {
    const row = {
      contract: ctx.contract,
      owner: d.owner,
      treasury: d.treasury,
      arbiter: d.arbiter,
      registry: d.registry,
      params: JSON.stringify(d.params),
      contract_version: d.version,
      updated_height: ctx.height,
    };
    await ctx.tx
      .insertInto("escrow_state")
      .values(row)
      .onConflict((oc) => oc.column("contract").doUpdateSet(row))
      .execute();
  },
  params_updated: (ctx, d) => updateState(ctx, { params: d.params }),
  arbiter_set: (ctx, d) => updateState(ctx, { arbiter: d.arbiter }),
  treasury_set: (ctx, d) => updateState(ctx, { treasury: d.treasury }),
  token_allowed: async (ctx, d) => {
    await ctx.tx
      .insertInto("escrow_tokens")
      .values({ token: d.token, added_height: ctx.height })
      .onConflict((oc) => oc.column("token").doNothing())
      .execute();
  },
  token_disallowed: async (ctx, d) => {
    await ctx.tx.deleteFrom("escrow_tokens").where("token", "=", d.token).execute();
  },
  contract_upgrade_started: (ctx, d) => updateState(ctx, { last_code_sha256: d.code_sha256 }),
  contract_migrated: (ctx, d) => updateState(ctx, { contract_version: d.to_version }),
  storage_deposit: saveStorage,
  storage_withdraw: saveStorage,
  deposit: (ctx, d) => setBalance(ctx, d.account_id, d.asset, d.amount),
  withdraw: (ctx, d) => setBalance(ctx, d.account_id, d.asset, d.amount),
  withdraw_failed: (ctx, d) => setBalance(ctx, d.account_id, d.asset, d.amount),
  allowance_set: saveAllowance,
  allowance_removed: async (ctx, d) => {
    await ctx.tx
      .deleteFrom("allowances")
      .where("owner", "=", d.owner)
      .where("spender", "=", d.spender)
      .where("asset", "=", d.asset)
      .execute();
  },
  approval_requested: async (ctx, d) => {
    await ctx.tx
      .insertInto("approvals")
      .values({
        id: d.id,
        payer: d.request.payer,
        client: d.request.client,
        asset: d.request.asset,
        max_amount: d.request.max_amount,
        request: JSON.stringify(d.request),
        requested_at: d.requested_at,
        status: "pending",
        rejected_by: null,
        updated_height: ctx.height,
      })
      .execute();
  },
  approval_granted: async (ctx, d) => {
    const { payer, asset, max_amount } = d.request;
    await debit(ctx, payer, asset, max_amount);
    await approvalStatus(ctx, d.id, "granted", null);
  },
  approval_rejected: (ctx, d) => approvalStatus(ctx, d.id, "rejected", d.rejected_by),
  job_pending: async (ctx, d) => {
    if (d.source === "balance" || d.source === "allowance") {
      await debit(ctx, d.payer, d.asset, d.max_amount);
    }
    if (d.allowance !== null) await saveAllowance(ctx, d.allowance);
  },
  job_created: jobHandler("job_created"),
  job_rejected: async (ctx, d) => {
    // Attached NEAR is sent back and tokens are returned by ft_transfer_call: no balance moves.
    if (d.source !== "attached" && d.source !== "token") {
      await credit(ctx, d.payer, d.asset, d.max_amount);
    }
    if (d.allowance !== null) await saveAllowance(ctx, d.allowance);
  },
  job_accepted: jobHandler("job_accepted"),
  job_delivered: jobHandler("job_delivered"),
  job_settled: jobHandler("job_settled"),
  job_cancelled: jobHandler("job_cancelled"),
  job_reclaimed: jobHandler("job_reclaimed"),
  job_failed: jobHandler("job_failed"),
  job_disputed: jobHandler("job_disputed"),
  dispute_resolved: jobHandler("dispute_resolved"),
  slash_requested: async (ctx, d) => {
    const updated = await ctx.tx
      .updateTable("jobs")
      .set({ slash_requested: true, updated_height: ctx.height })
      .where("id", "=", d.job_id)
      .returning(["id", "status"])
      .executeTakeFirst();
    if (updated === undefined) {
      throw new ConsistencyError(`the event names job ${d.job_id}, which the index does not have`);
    }
    await ctx.tx
      .insertInto("job_history")
      .values({
        receipt_id: ctx.receiptId,
        log_index: ctx.logIndex,
        job_id: d.job_id,
        block_height: ctx.height,
        block_timestamp: ctx.timestampNs,
        event: "slash_requested",
        status: updated.status,
        data: JSON.stringify(d as Json),
      })
      .execute();
  },
};
