/** Proposal records under `p:<id>` and their status, derived from the stored stage and heights. */
import { near } from "near-sdk-js";
import { fail } from "../../common/src/errors.ts";
import type { Proposal, ProposalStatus, ProposalView } from "../../common/src/governance-types.ts";
import { requireInt } from "../../common/src/validate.ts";
import type { GovernanceState } from "./state.ts";

const proposalKey = (id: number): string => `p:${id}`;

export function readProposal(id: number): Proposal | null {
  const raw = near.storageRead(proposalKey(id));
  return raw === null ? null : (JSON.parse(raw) as Proposal);
}

export function requireProposal(value: unknown, field: string): Proposal {
  const id = requireInt(value, field, 0, 2 ** 32);
  const proposal = readProposal(id);
  if (proposal === null) {
    fail(`${field}: proposal ${id} does not exist`);
  }
  return proposal;
}

export function writeProposal(proposal: Proposal): void {
  near.storageWrite(proposalKey(proposal.id), JSON.stringify(proposal));
}

/** Quorum is for + abstain against the quorum fixed at creation; success also needs for > against. */
export function votesSucceed(p: Proposal): boolean {
  const forVotes = BigInt(p.votes_for);
  const turnout = forVotes + BigInt(p.votes_abstain);
  return turnout >= BigInt(p.quorum) && forVotes > BigInt(p.votes_against);
}

/**
 * Last height at which the proposal may still be queued (voting) or executed (queued, failed, or
 * executing: an action whose callback never ran). The grace period is the proposal's own, fixed
 * when it was made, so a config change neither revives nor expires it.
 */
export function expiresHeight(p: Proposal, state: GovernanceState): number {
  const from = p.eta_height ?? p.vote_end_height;
  return from + (p.grace_period_blocks ?? state.legacy_grace_period_blocks);
}

export function statusOf(p: Proposal, state: GovernanceState, height: number): ProposalStatus {
  switch (p.stage) {
    case "canceled":
    case "executed":
      return p.stage;
    case "executing":
    case "queued":
    case "failed":
      return height > expiresHeight(p, state) ? "expired" : p.stage;
    case "voting":
      if (height <= p.snapshot_height) {
        return "pending";
      }
      if (height <= p.vote_end_height) {
        return "active";
      }
      if (!votesSucceed(p)) {
        return "defeated";
      }
      return height > expiresHeight(p, state) ? "expired" : "succeeded";
  }
}

export function viewOf(p: Proposal, state: GovernanceState): ProposalView {
  return {
    ...p,
    status: statusOf(p, state, Number(near.blockHeight())),
    expires_height: expiresHeight(p, state),
  };
}

/** Whether the proposal may still run its actions (used to protect the blobs it names). */
export function mayStillExecute(id: number, state: GovernanceState): boolean {
  const p = readProposal(id);
  if (p === null) {
    return false;
  }
  const status = statusOf(p, state, Number(near.blockHeight()));
  return !["defeated", "executed", "canceled", "expired"].includes(status);
}
