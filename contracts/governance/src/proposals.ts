/** Creating, queueing and canceling proposals. */
import { near } from "near-sdk-js";
import { fail } from "../../common/src/errors.ts";
import type { Proposal } from "../../common/src/governance-types.ts";
import { StorageMeter } from "../../common/src/storage-meter.ts";
import { requireText } from "../../common/src/validate.ts";
import { parseActions } from "./actions.ts";
import { addBlobReference } from "./blobs.ts";
import { currentVotes } from "./checkpoints.ts";
import { quorumOf } from "./config.ts";
import { emit } from "./events.ts";
import {
  expiresHeight,
  requireProposal,
  statusOf,
  viewOf,
  writeProposal,
} from "./proposal-store.ts";
import { type GovernanceState, LIMITS } from "./state.ts";

export function propose(state: GovernanceState, args: Record<string, unknown>): Proposal {
  const meter = new StorageMeter();
  const proposer = near.predecessorAccountId();
  const description = requireText(args.description, "description", 1, LIMITS.descriptionChars);
  const actions = parseActions(state.config, args.actions, proposer);
  const power = currentVotes(proposer);
  const threshold = BigInt(state.config.proposal_threshold);
  if (power < threshold) {
    fail(`${proposer} has ${power} votes, less than the proposal threshold of ${threshold}`);
  }
  const height = Number(near.blockHeight());
  const snapshot = height + state.config.voting_delay_blocks;
  const proposal: Proposal = {
    id: state.next_proposal_id,
    proposer,
    description,
    actions,
    created_height: height,
    snapshot_height: snapshot,
    vote_end_height: snapshot + state.config.voting_period_blocks,
    quorum: quorumOf(state.config, BigInt(state.total_supply)).toString(),
    votes_for: "0",
    votes_against: "0",
    votes_abstain: "0",
    stage: "voting",
    eta_height: null,
    executed_actions: 0,
    failure: null,
    canceled_by: null,
    grace_period_blocks: state.config.grace_period_blocks,
  };
  state.next_proposal_id += 1;
  writeProposal(proposal);
  for (const action of actions) {
    if (action.kind === "upgrade" || action.kind === "upgrade_self") {
      addBlobReference(action.code_sha256, proposal.id);
    }
  }
  meter.settle();
  emit({ event: "proposal_created", data: proposal });
  return proposal;
}

/** Anyone may queue a succeeded proposal; it becomes executable after the timelock. */
export function queue(state: GovernanceState, args: Record<string, unknown>): Proposal {
  const proposal = requireProposal(args.proposal_id, "proposal_id");
  const height = Number(near.blockHeight());
  const status = statusOf(proposal, state, height);
  if (status !== "succeeded") {
    fail(`proposal ${proposal.id} is ${status}: only a succeeded proposal can be queued`);
  }
  proposal.stage = "queued";
  proposal.eta_height = height + state.config.timelock_blocks;
  writeProposal(proposal);
  emit({
    event: "proposal_queued",
    data: {
      id: proposal.id,
      eta_height: proposal.eta_height,
      expires_height: expiresHeight(proposal, state),
    },
  });
  return proposal;
}

/** The proposer may cancel while pending; the guardian at any time before execution completes. */
export function cancel(state: GovernanceState, args: Record<string, unknown>): Proposal {
  const proposal = requireProposal(args.proposal_id, "proposal_id");
  const caller = near.predecessorAccountId();
  const status = viewOf(proposal, state).status;
  const isGuardian = state.config.guardian !== null && caller === state.config.guardian;
  if (isGuardian) {
    if (!["pending", "active", "succeeded", "queued", "failed"].includes(status)) {
      fail(`proposal ${proposal.id} is ${status}: it can no longer be canceled`);
    }
  } else if (caller === proposal.proposer) {
    if (status !== "pending") {
      fail(`proposal ${proposal.id} is ${status}: its proposer may cancel it only while pending`);
    }
  } else {
    fail(
      `only the proposer (${proposal.proposer}) or the guardian may cancel proposal ${proposal.id}`,
    );
  }
  proposal.stage = "canceled";
  proposal.canceled_by = caller;
  writeProposal(proposal);
  emit({ event: "proposal_canceled", data: { id: proposal.id, canceled_by: caller } });
  return proposal;
}
