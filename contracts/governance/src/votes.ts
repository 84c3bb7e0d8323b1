/** Votes: one per account per proposal, weighted by the voter's power at the snapshot height. */
import { near } from "near-sdk-js";
import { fail } from "../../common/src/errors.ts";
import type { Vote } from "../../common/src/governance-types.ts";
import { StorageMeter } from "../../common/src/storage-meter.ts";
import { requireEnum, requireText } from "../../common/src/validate.ts";
import { votesAt } from "./checkpoints.ts";
import { emit } from "./events.ts";
import { requireProposal, statusOf, writeProposal } from "./proposal-store.ts";
import { type GovernanceState, LIMITS } from "./state.ts";

const SUPPORT = ["for", "against", "abstain"] as const;
const voteKey = (id: number, voter: string): string => `v:${id}:${voter}`;

export function readVote(id: number, voter: string): Vote | null {
  const raw = near.storageRead(voteKey(id, voter));
  return raw === null ? null : (JSON.parse(raw) as Vote);
}

export function castVote(state: GovernanceState, args: Record<string, unknown>): Vote {
  const meter = new StorageMeter();
  const proposal = requireProposal(args.proposal_id, "proposal_id");
  const support = requireEnum(args.support, "support", SUPPORT);
  const reason =
    args.reason === undefined ? "" : requireText(args.reason, "reason", 0, LIMITS.reasonChars);
  const voter = near.predecessorAccountId();
  const height = Number(near.blockHeight());
  const status = statusOf(proposal, state, height);
  if (status !== "active") {
    fail(
      `proposal ${proposal.id} is ${status}: votes are accepted from height ` +
        `${proposal.snapshot_height + 1} to ${proposal.vote_end_height} (now ${height})`,
    );
  }
  if (readVote(proposal.id, voter) !== null) {
    fail(`${voter} has already voted on proposal ${proposal.id}`);
  }
  const weight = votesAt(voter, proposal.snapshot_height);
  if (weight === 0n) {
    fail(`${voter} had no voting power at the snapshot height ${proposal.snapshot_height}`);
  }
  if (support === "for") {
    proposal.votes_for = (BigInt(proposal.votes_for) + weight).toString();
  } else if (support === "against") {
    proposal.votes_against = (BigInt(proposal.votes_against) + weight).toString();
  } else {
    proposal.votes_abstain = (BigInt(proposal.votes_abstain) + weight).toString();
  }
  const vote: Vote = {
    proposal_id: proposal.id,
    voter,
    support,
    weight: weight.toString(),
    reason,
    block_height: height,
  };
  near.storageWrite(voteKey(proposal.id, voter), JSON.stringify(vote));
  writeProposal(proposal);
  meter.settle();
  emit({
    event: "vote_cast",
    data: {
      ...vote,
      votes_for: proposal.votes_for,
      votes_against: proposal.votes_against,
      votes_abstain: proposal.votes_abstain,
    },
  });
  return vote;
}
