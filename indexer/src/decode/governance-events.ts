/**
 * Schemas of the governance contract's events (contracts/common/src/governance-types.ts): its
 * gpumarket 1.0.0 events and the standard nep141 1.0.0 token events.
 */
import {
  anyJson,
  array,
  bool,
  type Check,
  count,
  extend,
  type Infer,
  nullable,
  object,
  oneOf,
  optional,
  SchemaError,
  str,
  u128,
} from "./schema.ts";

const configShape = {
  voting_delay_blocks: count,
  voting_period_blocks: count,
  timelock_blocks: count,
  grace_period_blocks: count,
  quorum_bps: count,
  proposal_threshold: u128,
  guardian: nullable(str),
  governed: array(str),
};
const config = object(configShape);

const metadata = object({
  spec: str,
  name: str,
  symbol: str,
  icon: nullable(str),
  reference: nullable(str),
  reference_hash: nullable(str),
  decimals: count,
});

const ACTIONS: Record<string, Check<unknown>> = {
  upgrade: object({ kind: str, target: str, code_sha256: str, code_size: count }),
  upgrade_self: object({ kind: str, code_sha256: str, code_size: count }),
  function_call: object({
    kind: str,
    target: str,
    method: str,
    args: anyJson,
    deposit: u128,
    gas_tgas: count,
  }),
  transfer: object({ kind: str, receiver: str, amount: u128, token: nullable(str) }),
  config: object({ kind: str, config: anyJson }),
};

const action: Check<unknown> = (v, p) => {
  const kind = (v as { kind?: unknown } | null)?.kind;
  const check =
    typeof kind === "string" && Object.hasOwn(ACTIONS, kind) ? ACTIONS[kind] : undefined;
  if (check === undefined) {
    throw new SchemaError(`${p}.kind: expected one of ${Object.keys(ACTIONS).join(", ")}`);
  }
  return check(v, p);
};

export const proposal = object({
  id: count,
  proposer: str,
  description: str,
  actions: array(action),
  created_height: count,
  snapshot_height: count,
  vote_end_height: count,
  quorum: u128,
  votes_for: u128,
  votes_against: u128,
  votes_abstain: u128,
  stage: oneOf("voting", "queued", "executing", "executed", "failed", "canceled"),
  eta_height: nullable(count),
  executed_actions: count,
  failure: nullable(str),
  canceled_by: nullable(str),
  /** Governance version 2: the grace period fixed at creation. */
  grace_period_blocks: optional(count),
});
export type Proposal = Infer<typeof proposal>;

const blobShape = {
  code_sha256: str,
  code_hash: str,
  size: count,
  payer: str,
  stored_height: count,
  proposals: array(count),
};

export const governanceEvents = {
  governance_initialized: object({ config, metadata, total_supply: u128, version: count }),
  config_updated: object({ config, proposal_id: count }),
  delegate_changed: object({ delegator: str, from_delegate: nullable(str), to_delegate: str }),
  delegate_votes_changed: object({
    delegate: str,
    previous_votes: u128,
    new_votes: u128,
    block_height: count,
  }),
  storage_balance_updated: object({
    account_id: str,
    total: u128,
    available: u128,
    registered: bool,
  }),
  blob_stored: extend(blobShape, { storage_cost: u128 }),
  blob_removed: object({ code_sha256: str, payer: str, refund: u128 }),
  proposal_created: proposal,
  vote_cast: object({
    proposal_id: count,
    voter: str,
    support: oneOf("for", "against", "abstain"),
    weight: u128,
    reason: str,
    block_height: count,
    votes_for: u128,
    votes_against: u128,
    votes_abstain: u128,
  }),
  proposal_queued: object({ id: count, eta_height: count, expires_height: count }),
  proposal_canceled: object({ id: count, canceled_by: str }),
  proposal_action_started: object({ id: count, index: count, action }),
  proposal_action_executed: object({ id: count, index: count }),
  proposal_execution_paused: object({ id: count, index: count, gas_needed_tgas: count }),
  proposal_executed: object({ id: count }),
  proposal_failed: object({ id: count, index: count, reason: str }),
  contract_upgrade_started: object({ code_sha256: str, code_size: count }),
  contract_migrated: object({ from_version: count, to_version: count }),
} satisfies Record<string, Check<unknown>>;

export const nep141Events = {
  ft_mint: object({ owner_id: str, amount: u128, memo: optional(str) }),
  ft_transfer: object({
    old_owner_id: str,
    new_owner_id: str,
    amount: u128,
    memo: optional(str),
  }),
  ft_burn: object({ owner_id: str, amount: u128, memo: optional(str) }),
} satisfies Record<string, Check<unknown>>;

export type GovernanceEventName = keyof typeof governanceEvents;
export type GovernanceEventData<N extends GovernanceEventName> = Infer<
  (typeof governanceEvents)[N]
>;
export type Nep141EventName = keyof typeof nep141Events;
export type Nep141EventData<N extends Nep141EventName> = Infer<(typeof nep141Events)[N]>;
