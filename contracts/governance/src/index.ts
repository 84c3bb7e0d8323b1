/**
 * GPU market governance: a NEP-141/145/148 token with delegation and checkpoints, proposals voted
 * with the power held at their snapshot, a timelock and permissionless execution over the
 * registry and the escrow (which name this contract as their owner). Each method validates its
 * arguments and delegates to the module of its concern; README.md describes every method.
 */
import { call, initialize, NearBindgen, near, view } from "near-sdk-js";
import { assertArgsSize } from "../../common/src/args.ts";
import { fail } from "../../common/src/errors.ts";
import type {
  BlobInfo,
  Checkpoint,
  GovernanceConfig,
  Proposal,
  ProposalView,
  StorageBalance,
  TokenMetadata,
  Vote,
} from "../../common/src/governance-types.ts";
import {
  requireAccountId,
  requireInt,
  requireObject,
  requireOnlyKeys,
  requirePage,
} from "../../common/src/validate.ts";
import { minStorageBalance, readAccount, storageBalanceOf } from "./accounts.ts";
import { blobInfo, parseCodeHash, removeBlob, storeBlob } from "./blobs.ts";
import { currentVotes, listCheckpoints, votesAt } from "./checkpoints.ts";
import { DEFAULT_CONFIG } from "./config.ts";
import { delegate as delegateVotes } from "./delegation.ts";
import { execute as executeProposal, onActionDone } from "./execution.ts";
import { initialize as initializeState } from "./init.ts";
import { mayStillExecute, readProposal, requireProposal, viewOf } from "./proposal-store.ts";
import {
  cancel as cancelProposal,
  propose as createProposal,
  queue as queueProposal,
} from "./proposals.ts";
import { CONTRACT_VERSION, DEFAULT_METADATA, type GovernanceState, LIMITS } from "./state.ts";
import { storageDeposit, storageUnregister, storageWithdraw } from "./storage.ts";
import { assertOneYocto, balanceOf, parseTransfer, transferBy } from "./token.ts";
import { resolveTransfer, transferCall } from "./transfer-call.ts";
import { migrateState } from "./upgrade.ts";
import { castVote, readVote } from "./votes.ts";

type Args = Record<string, unknown>;

/** Rejects oversized input, then checks the arguments are an object with only `keys`. */
function argsOf(method: string, value: unknown, keys: readonly string[]): Args {
  assertArgsSize(method, LIMITS.argsBytes);
  const args = requireObject(value ?? {}, "args");
  requireOnlyKeys(args, "args", keys);
  return args;
}

function noDeposit(method: string): void {
  if (near.attachedDeposit() > 0n) {
    fail(`${method} takes no deposit (attached ${near.attachedDeposit()})`);
  }
}

@NearBindgen({ requireInit: true })
// biome-ignore lint/correctness/noUnusedVariables: near-sdk-js exports its methods as the contract's
class GovernanceContract implements GovernanceState {
  version = CONTRACT_VERSION;
  config: GovernanceConfig = DEFAULT_CONFIG;
  metadata: TokenMetadata = DEFAULT_METADATA;
  total_supply = "0";
  next_proposal_id = 0;
  legacy_grace_period_blocks = DEFAULT_CONFIG.grace_period_blocks;

  // `new` cannot name a JS function (reserved word), so the initializer is `init`.
  @initialize({})
  init(value: unknown): void {
    initializeState(this, argsOf("init", value, ["metadata", "config", "holders"]));
  }

  // NEP-141

  @call({ payableFunction: true })
  ft_transfer(value: unknown): void {
    const args = argsOf("ft_transfer", value, ["receiver_id", "amount", "memo"]);
    assertOneYocto("ft_transfer");
    transferBy(near.predecessorAccountId(), parseTransfer(args));
  }

  @call({ payableFunction: true })
  ft_transfer_call(value: unknown): void {
    const args = argsOf("ft_transfer_call", value, ["receiver_id", "amount", "memo", "msg"]);
    assertOneYocto("ft_transfer_call");
    transferCall(args);
  }

  @call({ privateFunction: true })
  ft_resolve_transfer(value: unknown): string {
    return resolveTransfer(
      argsOf("ft_resolve_transfer", value, ["sender_id", "receiver_id", "amount", "reserve_bytes"]),
    );
  }

  @view({})
  ft_total_supply(value: unknown): string {
    argsOf("ft_total_supply", value, []);
    return this.total_supply;
  }

  @view({})
  ft_balance_of(value: unknown): string {
    const args = argsOf("ft_balance_of", value, ["account_id"]);
    return balanceOf(requireAccountId(args.account_id, "account_id")).toString();
  }

  @view({})
  ft_metadata(value: unknown): TokenMetadata {
    argsOf("ft_metadata", value, []);
    return this.metadata;
  }

  // NEP-145

  @call({ payableFunction: true })
  storage_deposit(value: unknown): StorageBalance {
    return storageDeposit(argsOf("storage_deposit", value, ["account_id", "registration_only"]));
  }

  @call({ payableFunction: true })
  storage_withdraw(value: unknown): StorageBalance {
    return storageWithdraw(argsOf("storage_withdraw", value, ["amount"]));
  }

  @call({ payableFunction: true })
  storage_unregister(value: unknown): boolean {
    return storageUnregister(argsOf("storage_unregister", value, ["force"]));
  }

  @view({})
  storage_balance_of(value: unknown): StorageBalance | null {
    const args = argsOf("storage_balance_of", value, ["account_id"]);
    const account = readAccount(requireAccountId(args.account_id, "account_id"));
    return account === null ? null : storageBalanceOf(account);
  }

  @view({})
  storage_balance_bounds(value: unknown): { min: string; max: string | null } {
    argsOf("storage_balance_bounds", value, []);
    return { min: minStorageBalance().toString(), max: null };
  }

  // Delegation and voting power

  @call({ payableFunction: true })
  delegate(value: unknown): string {
    return delegateVotes(argsOf("delegate", value, ["delegatee"]));
  }

  @view({})
  delegates(value: unknown): string | null {
    const args = argsOf("delegates", value, ["account_id"]);
    return readAccount(requireAccountId(args.account_id, "account_id"))?.d ?? null;
  }

  @view({})
  get_votes(value: unknown): string {
    const args = argsOf("get_votes", value, ["account_id"]);
    return currentVotes(requireAccountId(args.account_id, "account_id")).toString();
  }

  @view({})
  get_past_votes(value: unknown): string {
    const args = argsOf("get_past_votes", value, ["account_id", "block_height"]);
    const account = requireAccountId(args.account_id, "account_id");
    const now = Number(near.blockHeight());
    const height = requireInt(args.block_height, "block_height", 0, now);
    return votesAt(account, height).toString();
  }

  @view({})
  checkpoints(value: unknown): Checkpoint[] {
    const args = argsOf("checkpoints", value, ["account_id", "from_index", "limit"]);
    const { from, limit } = requirePage(args, LIMITS.pageLimit);
    return listCheckpoints(requireAccountId(args.account_id, "account_id"), from, limit);
  }

  // Blobs (store_blob is a raw-input function below)

  @call({ payableFunction: true })
  remove_blob(value: unknown): string {
    const args = argsOf("remove_blob", value, ["code_sha256"]);
    const sha = parseCodeHash(args.code_sha256, "code_sha256");
    return removeBlob(sha, (id) => mayStillExecute(id, this));
  }

  @view({})
  blob(value: unknown): BlobInfo | null {
    const args = argsOf("blob", value, ["code_sha256"]);
    return blobInfo(parseCodeHash(args.code_sha256, "code_sha256"));
  }

  // Proposals

  @call({ payableFunction: true })
  propose(value: unknown): Proposal {
    return createProposal(this, argsOf("propose", value, ["description", "actions"]));
  }

  @call({ payableFunction: true })
  vote(value: unknown): Vote {
    return castVote(this, argsOf("vote", value, ["proposal_id", "support", "reason"]));
  }

  @call({ payableFunction: true })
  queue(value: unknown): Proposal {
    noDeposit("queue");
    return queueProposal(this, argsOf("queue", value, ["proposal_id"]));
  }

  @call({ payableFunction: true })
  execute(value: unknown): Proposal {
    noDeposit("execute");
    return executeProposal(this, argsOf("execute", value, ["proposal_id"]));
  }

  @call({ payableFunction: true })
  cancel(value: unknown): Proposal {
    noDeposit("cancel");
    return cancelProposal(this, argsOf("cancel", value, ["proposal_id"]));
  }

  @call({ privateFunction: true })
  on_action_done(value: unknown): boolean {
    return onActionDone(this, argsOf("on_action_done", value, ["proposal_id", "index"]));
  }

  @view({})
  proposal(value: unknown): ProposalView {
    const args = argsOf("proposal", value, ["proposal_id"]);
    return viewOf(requireProposal(args.proposal_id, "proposal_id"), this);
  }

  @view({})
  proposals(value: unknown): ProposalView[] {
    const args = argsOf("proposals", value, ["from_index", "limit"]);
    const { from, limit } = requirePage(args, LIMITS.pageLimit);
    const out: ProposalView[] = [];
    for (let id = from; id < Math.min(this.next_proposal_id, from + limit); id++) {
      const proposal = readProposal(id);
      if (proposal !== null) {
        out.push(viewOf(proposal, this));
      }
    }
    return out;
  }

  @view({})
  get_vote(value: unknown): Vote | null {
    const args = argsOf("get_vote", value, ["proposal_id", "account_id"]);
    const proposal = requireProposal(args.proposal_id, "proposal_id");
    return readVote(proposal.id, requireAccountId(args.account_id, "account_id"));
  }

  @view({})
  get_config(value: unknown): GovernanceConfig {
    argsOf("get_config", value, []);
    return this.config;
  }

  @view({})
  governance_info(value: unknown): GovernanceState & { block_height: number } {
    argsOf("governance_info", value, []);
    return {
      version: this.version,
      config: this.config,
      metadata: this.metadata,
      total_supply: this.total_supply,
      next_proposal_id: this.next_proposal_id,
      legacy_grace_period_blocks: this.legacy_grace_period_blocks,
      block_height: Number(near.blockHeight()),
    };
  }
}

/** Raw-input method: the input is wasm bytes; the attached deposit pays their storage. */
export function store_blob(): void {
  near.valueReturn(JSON.stringify(storeBlob()));
}

/** Runs in the receipt of an upgrade_self action, right after the deploy. */
export function migrate(): void {
  migrateState();
}
