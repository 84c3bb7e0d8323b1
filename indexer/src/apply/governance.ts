/**
 * Applies the governance contract's events to its rows (state.ts): its settings, proposals (stage changes as the
 * contract makes them in contracts/governance execution.ts and proposals.ts), votes, delegation,
 * blobs, storage; and the nep141 token events to token_holders (ft_mint credits, ft_transfer moves,
 * ft_burn debits). A balance that would go below zero means the index missed something:
 * ConsistencyError.
 */

import type {
  GovernanceEventData,
  GovernanceEventName,
  Nep141EventData,
  Nep141EventName,
} from "../decode/governance-events.ts";
import { type ApplyContext, ConsistencyError } from "./context.ts";
import type { Row } from "./state.ts";

type Handler<D> = (ctx: ApplyContext, data: D) => void;

function requireState(ctx: ApplyContext): Row {
  const row = ctx.s.get("governance_state", [ctx.contract]);
  if (row === null) {
    throw new ConsistencyError(
      `governance ${ctx.contract} has no governance_initialized event in the index`,
    );
  }
  return row;
}

function updateState(
  ctx: ApplyContext,
  values: { config?: unknown; contract_version?: number; last_code_sha256?: string },
): void {
  const row = requireState(ctx);
  ctx.s.put("governance_state", [ctx.contract], { ...row, ...values, updated_height: ctx.height });
}

function updateProposal(ctx: ApplyContext, id: number, values: Row): void {
  const row = ctx.s.get("proposals", [id]);
  if (row === null) {
    throw new ConsistencyError(`the event names proposal ${id}, which the index does not have`);
  }
  ctx.s.put("proposals", [id], { ...row, ...values, updated_height: ctx.height });
}

function holderBalance(ctx: ApplyContext, account: string): bigint {
  return BigInt((ctx.s.get("token_holders", [account])?.balance as string | undefined) ?? "0");
}

function setHolder(ctx: ApplyContext, account: string, balance: bigint): void {
  if (balance === 0n) {
    ctx.s.remove("token_holders", [account]);
    return;
  }
  ctx.s.put("token_holders", [account], {
    account_id: account,
    balance: balance.toString(),
    updated_height: ctx.height,
  });
}

/** Checks `account` holds `amount`; returns its balance. */
function requireHolds(ctx: ApplyContext, account: string, amount: string): bigint {
  const held = holderBalance(ctx, account);
  if (held < BigInt(amount)) {
    throw new ConsistencyError(`${account} moves ${amount} tokens but holds ${held} in the index`);
  }
  return held;
}

function saveStorage(ctx: ApplyContext, d: GovernanceEventData<"storage_balance_updated">): void {
  ctx.s.put("governance_storage", [d.account_id], { ...d, updated_height: ctx.height });
}

export const governanceHandlers: { [N in GovernanceEventName]: Handler<GovernanceEventData<N>> } = {
  governance_initialized: (ctx, d) => {
    const old = ctx.s.get("governance_state", [ctx.contract]);
    ctx.s.put("governance_state", [ctx.contract], {
      last_code_sha256: null,
      ...old,
      contract: ctx.contract,
      config: d.config,
      metadata: d.metadata,
      total_supply: d.total_supply,
      contract_version: d.version,
      updated_height: ctx.height,
    });
  },
  config_updated: (ctx, d) => updateState(ctx, { config: d.config }),
  delegate_changed: (ctx, d) => {
    ctx.s.put("delegations", [d.delegator], {
      delegator: d.delegator,
      delegate: d.to_delegate,
      updated_height: ctx.height,
    });
  },
  delegate_votes_changed: (ctx, d) => {
    ctx.s.put("delegates", [d.delegate], {
      account_id: d.delegate,
      votes: d.new_votes,
      updated_height: ctx.height,
    });
  },
  storage_balance_updated: saveStorage,
  blob_stored: (ctx, d) => {
    const { storage_cost: _cost, ...blob } = d;
    ctx.s.put("blobs", [d.code_sha256], blob);
  },
  blob_removed: (ctx, d) => {
    ctx.s.remove("blobs", [d.code_sha256]);
  },
  proposal_created: (ctx, p) => {
    if (ctx.s.get("proposals", [p.id]) !== null) {
      throw new ConsistencyError(`proposal ${p.id} is created again but the index already has it`);
    }
    // The columns by name: a field a later contract version adds is kept in the raw event.
    ctx.s.put("proposals", [p.id], {
      id: String(p.id),
      proposer: p.proposer,
      description: p.description,
      actions: p.actions,
      created_height: p.created_height,
      snapshot_height: p.snapshot_height,
      vote_end_height: p.vote_end_height,
      quorum: p.quorum,
      votes_for: p.votes_for,
      votes_against: p.votes_against,
      votes_abstain: p.votes_abstain,
      stage: p.stage,
      eta_height: p.eta_height,
      executed_actions: p.executed_actions,
      failure: p.failure,
      canceled_by: p.canceled_by,
      updated_height: ctx.height,
    });
  },
  vote_cast: (ctx, d) => {
    updateProposal(ctx, d.proposal_id, {
      votes_for: d.votes_for,
      votes_against: d.votes_against,
      votes_abstain: d.votes_abstain,
    });
    ctx.s.append("votes", {
      proposal_id: String(d.proposal_id),
      voter: d.voter,
      support: d.support,
      weight: d.weight,
      reason: d.reason,
      block_height: d.block_height,
    });
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
  ft_mint: (ctx, d) => {
    setHolder(ctx, d.owner_id, holderBalance(ctx, d.owner_id) + BigInt(d.amount));
  },
  ft_transfer: (ctx, d) => {
    const from = requireHolds(ctx, d.old_owner_id, d.amount);
    setHolder(ctx, d.old_owner_id, from - BigInt(d.amount));
    setHolder(ctx, d.new_owner_id, holderBalance(ctx, d.new_owner_id) + BigInt(d.amount));
  },
  ft_burn: (ctx, d) => {
    const held = requireHolds(ctx, d.owner_id, d.amount);
    setHolder(ctx, d.owner_id, held - BigInt(d.amount));
  },
};
