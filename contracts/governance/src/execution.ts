/**
 * Execution of queued proposals, one action at a time. Each asynchronous action (upgrade, call,
 * transfer) is followed by the `on_action_done` callback, which records its outcome: success moves
 * on to the next action (in the same transaction when enough gas is left, otherwise at the next
 * `execute`), failure marks the proposal failed with the reason, to be retried from that action.
 * Config changes and transfers of this token run synchronously. Anyone may execute.
 */
import { near, type PromiseIndex } from "near-sdk-js";
import { fail } from "../../common/src/errors.ts";
import type { Proposal, ProposalAction } from "../../common/src/governance-types.ts";
import { readAccount, totalOwed } from "./accounts.ts";
import { readBlob } from "./blobs.ts";
import { applyConfigPatch } from "./config.ts";
import { emit } from "./events.ts";
import { readProposal, requireProposal, statusOf, writeProposal } from "./proposal-store.ts";
import { GAS, type GovernanceState, TGAS } from "./state.ts";
import { moveTokens } from "./token.ts";

const MIGRATE_GAS = 30n * TGAS;

/** Gas the action's receipt gets, and what execute burns to create it (reading a blob). */
function gasOf(action: ProposalAction): { attached: bigint; local: bigint } {
  switch (action.kind) {
    case "upgrade":
      return {
        attached: GAS.upgradeBase + BigInt(action.code_size) * GAS.upgradePerByte,
        local: BigInt(action.code_size) * GAS.blobReadPerByte,
      };
    case "upgrade_self":
      // Deploying is charged when the receipt is created: ~71 Mgas a byte, here, up front.
      return {
        attached: MIGRATE_GAS,
        local: BigInt(action.code_size) * (GAS.blobReadPerByte + 72_000_000n),
      };
    case "function_call":
      return { attached: BigInt(action.gas_tgas) * TGAS, local: 0n };
    case "transfer":
      return { attached: action.token === null ? 0n : GAS.ftTransfer, local: 0n };
    case "config":
      return { attached: 0n, local: 0n };
  }
}

/**
 * NEAR the contract may spend: its balance less what its storage locks and less what it owes
 * token accounts (their NEP-145 deposits, as storage_unregister would pay them back).
 */
function treasuryAvailable(): bigint {
  const reserved = near.storageUsage() * near.storageByteCost() + totalOwed();
  const balance = near.accountBalance();
  return balance > reserved ? balance - reserved : 0n;
}

function needNear(amount: bigint, what: string): string | null {
  const available = treasuryAvailable();
  return amount > available
    ? `${what} needs ${amount} yoctoNEAR; the treasury has ${available} available`
    : null;
}

/** Creates the action's receipt; a string is the reason it cannot run now. */
function startAction(action: ProposalAction, id: number): PromiseIndex | string {
  const { attached } = gasOf(action);
  switch (action.kind) {
    case "upgrade": {
      const code = readBlob(action.code_sha256);
      if (code === null) {
        return `blob ${action.code_sha256} is no longer stored: store it again, then execute`;
      }
      const promise = near.promiseBatchCreate(action.target);
      near.promiseBatchActionFunctionCallRaw(promise, "upgrade", code, 0n, attached);
      return promise;
    }
    case "upgrade_self": {
      const code = readBlob(action.code_sha256);
      if (code === null) {
        return `blob ${action.code_sha256} is no longer stored: store it again, then execute`;
      }
      emit({
        event: "contract_upgrade_started",
        data: { code_sha256: action.code_sha256, code_size: code.length },
      });
      const promise = near.promiseBatchCreate(near.currentAccountId());
      near.promiseBatchActionDeployContract(promise, code);
      near.promiseBatchActionFunctionCall(promise, "migrate", "{}", 0n, attached);
      return promise;
    }
    case "function_call": {
      const deposit = BigInt(action.deposit);
      const short = needNear(deposit, `the call's deposit`);
      if (short !== null) {
        return short;
      }
      const promise = near.promiseBatchCreate(action.target);
      near.promiseBatchActionFunctionCall(
        promise,
        action.method,
        JSON.stringify(action.args),
        deposit,
        attached,
      );
      return promise;
    }
    case "transfer": {
      const amount = BigInt(action.amount);
      if (action.token === null) {
        const short = needNear(amount, "the transfer");
        if (short !== null) {
          return short;
        }
        const promise = near.promiseBatchCreate(action.receiver);
        near.promiseBatchActionTransfer(promise, amount);
        return promise;
      }
      const promise = near.promiseBatchCreate(action.token);
      near.promiseBatchActionFunctionCall(
        promise,
        "ft_transfer",
        JSON.stringify({
          receiver_id: action.receiver,
          amount: action.amount,
          memo: `gpumarket governance proposal ${id}`,
        }),
        1n,
        attached,
      );
      return promise;
    }
    case "config":
      return fail("internal: config actions run synchronously");
  }
}

function markFailed(proposal: Proposal, index: number, reason: string): void {
  proposal.stage = "failed";
  proposal.failure = `action ${index} (${proposal.actions[index]?.kind}): ${reason}`;
  writeProposal(proposal);
  emit({ event: "proposal_failed", data: { id: proposal.id, index, reason: proposal.failure } });
}

function markActionDone(proposal: Proposal, index: number): void {
  proposal.executed_actions = index + 1;
  emit({ event: "proposal_action_executed", data: { id: proposal.id, index } });
}

/** Runs synchronous actions in place; returns a reason when one cannot run. */
function runLocal(
  state: GovernanceState,
  proposal: Proposal,
  action: ProposalAction,
): string | null {
  if (action.kind === "config") {
    state.config = applyConfigPatch(state.config, action.config);
    emit({ event: "config_updated", data: { config: state.config, proposal_id: proposal.id } });
    return null;
  }
  if (action.kind === "transfer" && action.token === near.currentAccountId()) {
    const self = near.currentAccountId();
    const held = BigInt(readAccount(self)?.b ?? "0");
    if (held < BigInt(action.amount)) {
      return `the treasury holds ${held} tokens, less than ${action.amount}`;
    }
    if (readAccount(action.receiver) === null) {
      return `${action.receiver} is not registered with the token (storage_deposit)`;
    }
    // The treasury pays for checkpoints this writes.
    moveTokens(self, action.receiver, BigInt(action.amount), `proposal ${proposal.id}`);
    return null;
  }
  return "internal: not a local action";
}

function isLocal(action: ProposalAction): boolean {
  return (
    action.kind === "config" ||
    (action.kind === "transfer" && action.token === near.currentAccountId())
  );
}

/**
 * Runs the proposal's remaining actions until one is asynchronous (then its callback goes on)
 * or fails. From `execute` a lack of gas is an error (nothing changes); from the callback, the
 * proposal waits, queued, for the next `execute`.
 */
function runActions(state: GovernanceState, proposal: Proposal, fromExecute: boolean): void {
  while (proposal.executed_actions < proposal.actions.length) {
    const index = proposal.executed_actions;
    const action = proposal.actions[index] as ProposalAction;
    if (isLocal(action)) {
      const reason = runLocal(state, proposal, action);
      if (reason !== null) {
        markFailed(proposal, index, reason);
        return;
      }
      markActionDone(proposal, index);
      continue;
    }
    const { attached, local } = gasOf(action);
    const needed = attached + local + GAS.callback + GAS.executeOverhead;
    const left = near.prepaidGas() - near.usedGas();
    if (left < needed) {
      if (fromExecute) {
        const total = (near.usedGas() + needed + TGAS - 1n) / TGAS;
        fail(
          `execute: action ${index} (${action.kind}) needs about ${needed / TGAS} Tgas more ` +
            `than is left: attach at least ${total} Tgas`,
        );
      }
      proposal.stage = "queued";
      writeProposal(proposal);
      emit({
        event: "proposal_execution_paused",
        data: { id: proposal.id, index, gas_needed_tgas: Number((needed + TGAS - 1n) / TGAS) },
      });
      return;
    }
    const promise = startAction(action, proposal.id);
    if (typeof promise === "string") {
      markFailed(proposal, index, promise);
      return;
    }
    proposal.stage = "executing";
    writeProposal(proposal);
    emit({ event: "proposal_action_started", data: { id: proposal.id, index, action } });
    // The callback gets a fixed floor plus all gas left (weight 1), to go on with the next action.
    const callback = near.promiseBatchThen(promise, near.currentAccountId());
    near.promiseBatchActionFunctionCallWeight(
      callback,
      "on_action_done",
      JSON.stringify({ proposal_id: proposal.id, index }),
      0n,
      GAS.callback,
      1n,
    );
    return;
  }
  proposal.stage = "executed";
  proposal.failure = null;
  writeProposal(proposal);
  emit({ event: "proposal_executed", data: { id: proposal.id } });
}

export function execute(state: GovernanceState, args: Record<string, unknown>): Proposal {
  const proposal = requireProposal(args.proposal_id, "proposal_id");
  const height = Number(near.blockHeight());
  const status = statusOf(proposal, state, height);
  if (status === "queued") {
    const eta = proposal.eta_height ?? 0;
    if (height < eta) {
      fail(`proposal ${proposal.id} is timelocked until height ${eta} (now ${height})`);
    }
  } else if (status !== "failed") {
    fail(`proposal ${proposal.id} is ${status}: only a queued or failed proposal can be executed`);
  }
  proposal.stage = "queued";
  runActions(state, proposal, true);
  return proposal;
}

/** The callback after each asynchronous action: records its outcome and goes on. */
export function onActionDone(state: GovernanceState, args: Record<string, unknown>): boolean {
  const id = Number(args.proposal_id);
  const index = Number(args.index);
  const proposal = readProposal(id);
  if (proposal === null || proposal.stage !== "executing" || proposal.executed_actions !== index) {
    fail(`internal: proposal ${id} is not executing action ${index}`);
  }
  let succeeded = true;
  try {
    near.promiseResultRaw(0);
  } catch {
    succeeded = false;
  }
  if (!succeeded) {
    const action = proposal.actions[index] as ProposalAction;
    const target =
      action.kind === "upgrade" || action.kind === "function_call"
        ? action.target
        : action.kind === "transfer"
          ? (action.token ?? action.receiver)
          : near.currentAccountId();
    markFailed(
      proposal,
      index,
      `the receipt on ${target} failed (see its outcome); nothing of it applied`,
    );
    return false;
  }
  markActionDone(proposal, index);
  runActions(state, proposal, false);
  return true;
}
