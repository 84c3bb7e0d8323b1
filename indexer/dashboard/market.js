/**
 * The market as the page knows it, rebuilt from the indexer's event stream (/v1/events): jobs
 * with their timelines, proposals with live tallies, governance token holders, and a feed of
 * recent activity. Events carry whole records (the contracts log the full new record), so the
 * latest event about a job or proposal is its current state.
 */

/** @typedef {{ block_height: number, block_timestamp: string, seq: number, contract: string, standard: string | null, event: string | null, data: unknown, status: string }} ChainEvent */

const FEED_SIZE = 25;

export class Market {
  constructor() {
    /** @type {Map<string, any>} job id -> latest Job record */
    this.jobs = new Map();
    /** @type {Map<number, any>} proposal id -> Proposal with tallies and derived flags */
    this.proposals = new Map();
    /** @type {Map<string, bigint>} governance token balances */
    this.balances = new Map();
    /** @type {Map<string, string>} delegate -> voting power */
    this.votingPower = new Map();
    this.token = { symbol: "", decimals: 0, totalSupply: "0" };
    /** @type {ChainEvent[]} newest first */
    this.feed = [];
    /** @type {{ height: number, seq: number } | null} */
    this.last = null;
  }

  /** Whether an event comes after everything applied so far. @param {ChainEvent} e */
  isNew(e) {
    const last = this.last;
    return (
      last === null ||
      e.block_height > last.height ||
      (e.block_height === last.height && e.seq > last.seq)
    );
  }

  /** @param {ChainEvent} e */
  apply(e) {
    if (!this.isNew(e)) return;
    this.last = { height: e.block_height, seq: e.seq };
    this.feed.unshift(e);
    if (this.feed.length > FEED_SIZE) this.feed.length = FEED_SIZE;
    const items = Array.isArray(e.data) ? e.data : [];
    for (const item of items) {
      if (typeof item !== "object" || item === null) continue;
      if (e.standard === "nep141") this.#token(e.event, item);
      else this.#market(e, item);
    }
  }

  /** @param {ChainEvent} e @param {any} item */
  #market(e, item) {
    const name = e.event ?? "";
    if (name.startsWith("job_") || name === "dispute_resolved") {
      if (typeof item.id === "string" && typeof item.status === "string")
        this.jobs.set(item.id, item);
      return;
    }
    switch (name) {
      case "governance_initialized":
        this.token = {
          symbol: item.metadata?.symbol ?? "",
          decimals: item.metadata?.decimals ?? 0,
          totalSupply: item.total_supply ?? "0",
        };
        break;
      case "proposal_created":
        this.proposals.set(item.id, {
          ...item,
          queued: null,
          executed: false,
          failed: null,
          canceled_by: item.canceled_by,
        });
        break;
      case "vote_cast": {
        const proposal = this.proposals.get(item.proposal_id);
        if (proposal) {
          proposal.votes_for = item.votes_for;
          proposal.votes_against = item.votes_against;
          proposal.votes_abstain = item.votes_abstain;
          proposal.voters = (proposal.voters ?? 0) + 1;
        }
        break;
      }
      case "proposal_queued":
        this.#proposal(item.id, (p) => {
          p.queued = { eta_height: item.eta_height, expires_height: item.expires_height };
        });
        break;
      case "proposal_canceled":
        this.#proposal(item.id, (p) => {
          p.canceled_by = item.canceled_by;
        });
        break;
      case "proposal_executed":
        this.#proposal(item.id, (p) => {
          p.executed = true;
        });
        break;
      case "proposal_failed":
        this.#proposal(item.id, (p) => {
          p.failed = item.reason;
        });
        break;
      case "delegate_votes_changed":
        this.votingPower.set(item.delegate, item.new_votes);
        break;
    }
  }

  /** @param {number} id @param {(p: any) => void} change */
  #proposal(id, change) {
    const proposal = this.proposals.get(id);
    if (proposal) change(proposal);
  }

  /** NEP-141 events of the governance token. @param {string | null} name @param {any} item */
  #token(name, item) {
    const add = (/** @type {string} */ account, /** @type {bigint} */ amount) => {
      this.balances.set(account, (this.balances.get(account) ?? 0n) + amount);
    };
    const amount = /^\d+$/.test(item.amount ?? "") ? BigInt(item.amount) : 0n;
    if (name === "ft_mint") add(item.owner_id, amount);
    else if (name === "ft_burn") add(item.owner_id, -amount);
    else if (name === "ft_transfer") {
      add(item.old_owner_id, -amount);
      add(item.new_owner_id, amount);
    }
  }
}

/**
 * A proposal's status at an indexed height, as the governance contract derives it.
 * @param {any} p @param {number} height
 */
export function proposalStatus(p, height) {
  if (p.canceled_by) return "canceled";
  if (p.executed) return "executed";
  if (p.failed) return "failed";
  if (p.queued) return height > p.queued.expires_height ? "expired" : "queued";
  if (height <= p.snapshot_height) return "pending";
  if (height <= p.vote_end_height) return "active";
  const votesFor = BigInt(p.votes_for);
  const reached = votesFor + BigInt(p.votes_abstain) >= BigInt(p.quorum);
  return reached && votesFor > BigInt(p.votes_against) ? "succeeded" : "defeated";
}
