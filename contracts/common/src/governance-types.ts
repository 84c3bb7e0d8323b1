/**
 * The governance contract's records as stored, returned by views and carried in events. Shared
 * with the indexer and scripts. Amounts are u128 decimal strings; heights and block counts are
 * JSON integers (block heights stay far below 2^53).
 */

export interface GovernanceConfig {
  /** Blocks between a proposal's creation and its snapshot; voting opens the block after. */
  voting_delay_blocks: number;
  /** Blocks during which votes are accepted, counted from the block after the snapshot. */
  voting_period_blocks: number;
  /** Blocks a queued proposal waits before it may be executed. */
  timelock_blocks: number;
  /** Blocks after which an unexecuted proposal expires (after voting ends, or after its eta). */
  grace_period_blocks: number;
  /** For + abstain votes needed, in basis points of the total supply. */
  quorum_bps: number;
  /** Voting power (token base units) a proposer needs. */
  proposal_threshold: string;
  /** May cancel any proposal that is not executed; null: nobody. */
  guardian: string | null;
  /** Contracts that proposals may upgrade or call (they must name this contract as owner). */
  governed: string[];
}

export interface TokenMetadata {
  spec: string;
  name: string;
  symbol: string;
  icon: string | null;
  reference: string | null;
  reference_hash: string | null;
  decimals: number;
}

export type ProposalAction =
  | { kind: "upgrade"; target: string; code_sha256: string; code_size: number }
  | { kind: "upgrade_self"; code_sha256: string; code_size: number }
  | {
      kind: "function_call";
      target: string;
      method: string;
      /** JSON arguments, passed as given. */
      args: unknown;
      deposit: string;
      gas_tgas: number;
    }
  | { kind: "transfer"; receiver: string; amount: string; token: string | null }
  | { kind: "config"; config: Partial<GovernanceConfig> };

/** What is stored; `ProposalStatus` adds the states derived from block heights. */
export type ProposalStage = "voting" | "queued" | "executing" | "executed" | "failed" | "canceled";

export type ProposalStatus =
  | "pending"
  | "active"
  | "defeated"
  | "succeeded"
  | "queued"
  | "executing"
  | "executed"
  | "failed"
  | "canceled"
  | "expired";

export interface Proposal {
  id: number;
  proposer: string;
  description: string;
  actions: ProposalAction[];
  created_height: number;
  /** Voting power is read at this height; votes are accepted from snapshot + 1 to vote_end. */
  snapshot_height: number;
  vote_end_height: number;
  /** For + abstain needed, fixed at creation. */
  quorum: string;
  votes_for: string;
  votes_against: string;
  votes_abstain: string;
  stage: ProposalStage;
  /** Set when queued: first height execute may run. */
  eta_height: number | null;
  /** Actions done so far; execution resumes at this index. */
  executed_actions: number;
  /** Why the last execution attempt failed. */
  failure: string | null;
  canceled_by: string | null;
  /**
   * The grace period fixed when the proposal was made: it may be queued until vote_end_height +
   * grace and executed until eta_height + grace, whatever the config says later. Absent in
   * proposals stored by version 1 (they use the grace period in force when governance was
   * upgraded to version 2).
   */
  grace_period_blocks?: number;
}

export type ProposalView = Proposal & { status: ProposalStatus; expires_height: number };

export type VoteSupport = "for" | "against" | "abstain";

export interface Vote {
  proposal_id: number;
  voter: string;
  support: VoteSupport;
  weight: string;
  reason: string;
  block_height: number;
}

export interface Checkpoint {
  block_height: number;
  votes: string;
}

export interface BlobInfo {
  code_sha256: string;
  code_hash: string;
  size: number;
  payer: string;
  stored_height: number;
  /** Proposals that name this blob; it cannot be removed while one of them may still execute. */
  proposals: number[];
}

export interface StorageBalance {
  total: string;
  available: string;
}

export type GovernanceEvent =
  | {
      event: "governance_initialized";
      data: {
        config: GovernanceConfig;
        metadata: TokenMetadata;
        total_supply: string;
        version: number;
      };
    }
  | { event: "config_updated"; data: { config: GovernanceConfig; proposal_id: number } }
  | {
      event: "delegate_changed";
      data: { delegator: string; from_delegate: string | null; to_delegate: string };
    }
  | {
      event: "delegate_votes_changed";
      data: { delegate: string; previous_votes: string; new_votes: string; block_height: number };
    }
  | {
      event: "storage_balance_updated";
      data: { account_id: string; total: string; available: string; registered: boolean };
    }
  | { event: "blob_stored"; data: BlobInfo & { storage_cost: string } }
  | { event: "blob_removed"; data: { code_sha256: string; payer: string; refund: string } }
  | { event: "proposal_created"; data: Proposal }
  | {
      event: "vote_cast";
      data: Vote & { votes_for: string; votes_against: string; votes_abstain: string };
    }
  | { event: "proposal_queued"; data: { id: number; eta_height: number; expires_height: number } }
  | { event: "proposal_canceled"; data: { id: number; canceled_by: string } }
  | {
      event: "proposal_action_started";
      data: { id: number; index: number; action: ProposalAction };
    }
  | { event: "proposal_action_executed"; data: { id: number; index: number } }
  /** Too little gas was left for action `index`: the proposal is queued again, for `execute`. */
  | {
      event: "proposal_execution_paused";
      data: { id: number; index: number; gas_needed_tgas: number };
    }
  | { event: "proposal_executed"; data: { id: number } }
  | { event: "proposal_failed"; data: { id: number; index: number; reason: string } }
  | { event: "contract_upgrade_started"; data: { code_sha256: string; code_size: number } }
  | { event: "contract_migrated"; data: { from_version: number; to_version: number } };
