/**
 * Applies the governance contract's events: its settings, proposals (stage changes as the
 * contract makes them in contracts/governance execution.ts and proposals.ts), votes, delegation,
 * blobs, storage; and the nep141 token events to token_holders (ft_mint credits, ft_transfer moves,
 * ft_burn debits). A balance that would go below zero means the index missed something:
 * ConsistencyError.
 */

import type { Updateable } from "kysely";
import type { ProposalsTable } from "../db/schema.ts";
import type {
  GovernanceEventData,
  GovernanceEventName,
  Nep141EventData,
  Nep141EventName,
} from "../decode/governance-events.ts";
import { type ApplyContext, ConsistencyError } from "./context.ts";

type Handler<D> = (ctx: ApplyContext, data: D) => Promise<void>;

async function requireState(ctx: ApplyContext): Promise<void> {
  const row = await ctx.tx
    .selectFrom("governance_state")
    .select("contract")
    .where("contract", "=", ctx.contract)
    .executeTakeFirst();
  if (row === undefined) {
    throw new ConsistencyError(
      `governance ${ctx.contract} has no governance_initialized event in the index`,
    );
  }
}

async function updateState(
  ctx: ApplyContext,
  values: { config?: unknown; contract_version?: number; last_code_sha256?: string },
): Promise<void> {
  await requireState(ctx);
  const { config, ...rest } = values;
  await ctx.tx
    .updateTable("governance_state")
    .set({
      ...rest,
      ...(config === undefined ? {} : { config: JSON.stringify(config) }),
      updated_height: ctx.height,
    })
    .where("contract", "=", ctx.contract)
    .execute();
}

async function updateProposal(
  ctx: ApplyContext,
  id: number,
  values: Updateable<ProposalsTable>,
): Promise<void> {
  const updated = await ctx.tx
    .updateTable("proposals")
    .set({ ...values, updated_height: ctx.height })
    .where("id", "=", String(id))
    .returning("id")
    .executeTakeFirst();
  if (updated === undefined) {
    throw new ConsistencyError(`the event names proposal ${id}, which the index does not have`);
  }
}

async function holderBalance(ctx: ApplyContext, account: string): Promise<bigint> {
  const row = await ctx.tx
    .selectFrom("token_holders")
    .select("balance")
    .where("account_id", "=", account)
    .executeTakeFirst();
  return BigInt(row?.balance ?? "0");
}

async function setHolder(ctx: ApplyContext, account: string, balance: bigint): Promise<void> {
  if (balance === 0n) {
    await ctx.tx.deleteFrom("token_holders").where("account_id", "=", account).execute();
    return;
  }
  const row = { account_id: account, balance: balance.toString(), updated_height: ctx.height };
  await ctx.tx
    .insertInto("token_holders")
    .values(row)
    .onConflict((oc) => oc.column("account_id").doUpdateSet(row))
    .execute();
}

/** Checks `account` holds `amount` before writing anything; returns its balance. */
async function requireHolds(ctx: ApplyContext, account: string, amount: string): Promise<bigint> {
  const held = await holderBalance(ctx, account);
  if (held < BigInt(amount)) {
    throw new ConsistencyError(`${account} moves ${amount} tokens but holds ${held} in the index`);
  }
  return held;
}

async function saveStorage(
  ctx: ApplyContext,
  d: GovernanceEventData<"storage_balance_updated">,
): Promise<void> {
  const row = { ...d, updated_height: ctx.height };
  await ctx.tx
    .insertInto("governance_storage")
    .values(row)
    .onConflict((oc) => oc.column("account_id").doUpdateSet(row))
    .execute();
}

export const governanceHandlers: { [N in GovernanceEventName]: Handler<GovernanceEventData<N>> } = {
  governance_initialized: async (ctx, d) => {
    const row = {
      contract: ctx.contract,
      config: JSON.stringify(d.config),
      metadata: JSON.stringify(d.metadata),
      total_supply: d.total_supply,
      contract_version: d.version,
      updated_height: ctx.height,
    };
    await ctx.tx
      .insertInto("governance_state")
      .values(row)
      .onConflict((oc) => oc.column("contract").doUpdateSet(row))
      .execute();
  },
  config_updated: (ctx, d) => updateState(ctx, { config: d.config }),
  delegate_changed: async (ctx, d) => {
    const row = { delegator: d.delegator, delegate: d.to_delegate, updated_height: ctx.height };
    await ctx.tx
      .insertInto("delegations")
      .values(row)
      .onConflict((oc) => oc.column("delegator").doUpdateSet(row))
      .execute();
  },
  delegate_votes_changed: async (ctx, d) => {
    const row = { account_id: d.delegate, votes: d.new_votes, updated_height: ctx.height };
    await ctx.tx
      .insertInto("delegates")
      .values(row)
      .onConflict((oc) => oc.column("account_id").doUpdateSet(row))
      .execute();
  },
  storage_balance_updated: saveStorage,
  blob_stored: async (ctx, d) => {
    const { storage_cost: _cost, proposals, ...blob } = d;
    const row = { ...blob, proposals: JSON.stringify(proposals) };
    await ctx.tx
      .insertInto("blobs")
      .values(row)
      .onConflict((oc) => oc.column("code_sha256").doUpdateSet(row))
      .execute();
  },
  blob_removed: async (ctx, d) => {
    await ctx.tx.deleteFrom("blobs").where("code_sha256", "=", d.code_sha256).execute();
  },
  proposal_created: async (ctx, p) => {
    await ctx.tx
      .insertInto("proposals")
      .values({
        ...p,
        id: String(p.id),
        actions: JSON.stringify(p.actions),
        updated_height: ctx.height,
      })
      .execute();
  },
  vote_cast: async (ctx, d) => {
    await updateProposal(ctx, d.proposal_id, {
      votes_for: d.votes_for,
      votes_against: d.votes_against,
      votes_abstain: d.votes_abstain,
    });
    await ctx.tx
      .insertInto("votes")
      .values({
        proposal_id: String(d.proposal_id),
        voter: d.voter,
        support: d.support,
        weight: d.weight,
        reason: d.reason,
        block_height: d.block_height,
      })
      .execute();
  },
  proposal_queued: (ctx, d) =>
    updateProposal(ctx, d.id, { stage: "queued", eta_height: d.eta_height }),
  proposal_canceled: (ctx, d) =>
    updateProposal(ctx, d.id, { stage: "canceled", canceled_by: d.canceled_by }),
  proposal_action_started: (ctx, d) => updateProposal(ctx, d.id, { stage: "executing" }),
  proposal_action_executed: (ctx, d) =>
    updateProposal(ctx, d.id, { executed_actions: d.index + 1 }),
  proposal_execution_paused: (ctx, d) => updateProposal(ctx, d.id, { stage: "queued" }),
  proposal_executed: (ctx, d) => updateProposal(ctx, d.id, { stage: "executed", failure: null }),
  proposal_failed: (ctx, d) => updateProposal(ctx, d.id, { stage: "failed", failure: d.reason }),
  contract_upgrade_started: (ctx, d) => updateState(ctx, { last_code_sha256: d.code_sha256 }),
  contract_migrated: (ctx, d) => updateState(ctx, { contract_version: d.to_version }),
};

export const nep141Handlers: { [N in Nep141EventName]: Handler<Nep141EventData<N>> } = {
  ft_mint: async (ctx, d) => {
    await setHolder(ctx, d.owner_id, (await holderBalance(ctx, d.owner_id)) + BigInt(d.amount));
  },
  ft_transfer: async (ctx, d) => {
    const from = await requireHolds(ctx, d.old_owner_id, d.amount);
    await setHolder(ctx, d.old_owner_id, from - BigInt(d.amount));
    await setHolder(
      ctx,
      d.new_owner_id,
      (await holderBalance(ctx, d.new_owner_id)) + BigInt(d.amount),
    );
  },
  ft_burn: async (ctx, d) => {
    const held = await requireHolds(ctx, d.owner_id, d.amount);
    await setHolder(ctx, d.owner_id, held - BigInt(d.amount));
  },
};
