/**
 * Spending allowances: an owner lets a spender (an AI agent, say) create jobs paid from the owner's
 * prepaid balance, up to `limit` per period. A job above what is left waits as an approval request
 * (holding no funds) until the owner approves or either of them rejects it.
 */
import { near } from "near-sdk-js";
import { fail } from "../../common/src/errors.ts";
import type { Allowance, Approval, JobRequest } from "../../common/src/escrow-types.ts";
import { emitEvent } from "../../common/src/events.ts";
import { readRecord, removeRecord, writeRecord } from "../../common/src/store.ts";
import { parseU64, parseU128 } from "../../common/src/u128.ts";
import { requireAccountId } from "../../common/src/validate.ts";
import {
  type AllowanceUse,
  currentPeriod,
  getAllowance,
  saveAllowance,
} from "./allowance-store.ts";
import { parseAsset, parseUsableAsset } from "./assets.ts";
import { escrowFromBalance } from "./balances.ts";
import { askRegistry, requireStorageForJob } from "./create.ts";
import { allowanceKey, allowanceSet, approvalKey, approvalSet } from "./keys.ts";
import { type EscrowState, STORAGE_BYTES } from "./state.ts";
import { lockStorage, unlockStorage } from "./storage.ts";

export function viewAllowance(owner: string, spender: string, asset: string): Allowance | null {
  const allowance = getAllowance(owner, spender, asset);
  return allowance === null ? null : currentPeriod(allowance);
}

export function setAllowance(args: Record<string, unknown>): Allowance {
  const owner = near.predecessorAccountId();
  const spender = requireAccountId(args.spender, "spender");
  if (spender === owner) {
    fail("spender: an owner spends its own balance without an allowance");
  }
  const asset = parseUsableAsset(args.asset, "asset");
  const limit = parseU128(args.limit, "limit");
  const periodNs = parseU64(args.period_ns, "period_ns");
  if (periodNs === 0n) {
    fail("period_ns: must be greater than 0");
  }
  const existing = getAllowance(owner, spender, asset);
  let allowance: Allowance;
  if (existing === null) {
    lockStorage(owner, STORAGE_BYTES.allowance, "allowance");
    allowanceSet(owner).add(`${spender}:${asset}`);
    allowance = {
      owner,
      spender,
      asset,
      limit: limit.toString(),
      period_ns: periodNs.toString(),
      period_start: near.blockTimestamp().toString(),
      spent: "0",
    };
  } else {
    // A new limit or period applies to the current period; what was spent in it still counts.
    allowance = {
      ...currentPeriod(existing),
      limit: limit.toString(),
      period_ns: periodNs.toString(),
    };
  }
  saveAllowance(allowance);
  emitEvent({ event: "allowance_set", data: allowance });
  return allowance;
}

export function removeAllowance(args: Record<string, unknown>): void {
  const owner = near.predecessorAccountId();
  const spender = requireAccountId(args.spender, "spender");
  const asset = parseAsset(args.asset, "asset");
  if (getAllowance(owner, spender, asset) === null) {
    fail(`no allowance of ${owner} for ${spender} in ${asset}`);
  }
  removeRecord(allowanceKey(owner, spender, asset));
  allowanceSet(owner).remove(`${spender}:${asset}`);
  unlockStorage(owner, STORAGE_BYTES.allowance);
  emitEvent({ event: "allowance_removed", data: { owner, spender, asset } });
}

export function listAllowances(owner: string, from: number, limit: number): Allowance[] {
  const out: Allowance[] = [];
  for (const member of allowanceSet(owner).page(from, limit)) {
    const split = member.indexOf(":");
    const allowance = viewAllowance(owner, member.slice(0, split), member.slice(split + 1));
    if (allowance !== null) {
      out.push(allowance);
    }
  }
  return out;
}

/**
 * Takes `amount` from what is left of the payer's allowance for the client in the current period;
 * null (nothing changed) when it is more than what is left.
 */
function trySpend(use: AllowanceUse, amount: bigint): Allowance | null {
  const stored =
    getAllowance(use.payer, use.client, use.asset) ??
    fail(`${use.payer} has given ${use.client} no allowance in ${use.asset}`);
  const allowance = currentPeriod(stored);
  const spent = BigInt(allowance.spent) + amount;
  if (spent > BigInt(allowance.limit)) {
    return null;
  }
  allowance.spent = spent.toString();
  saveAllowance(allowance);
  return allowance;
}

/**
 * A spender's session paid by the owner: within the allowance the budget is locked from the owner's
 * balance; above it the call fails (sessions have no approval queue: ask for a smaller budget, or
 * the owner raises the allowance).
 */
export function spendForSession(use: AllowanceUse, amount: bigint): Allowance {
  const allowance = trySpend(use, amount);
  if (allowance === null) {
    const left = viewAllowance(use.payer, use.client, use.asset);
    const remaining = left === null ? 0n : BigInt(left.limit) - BigInt(left.spent);
    fail(
      `budget: ${amount} is more than the ${remaining} ${use.asset} left of ${use.payer}'s ` +
        `allowance for ${use.client} this period`,
    );
  }
  escrowFromBalance(use.payer, use.asset, amount);
  return allowance;
}

/**
 * A spender's job paid by the owner: within the allowance, the funds are locked and the registry
 * asked; above it, an approval request is stored for the owner instead.
 */
export function spendOrRequestApproval(
  state: EscrowState,
  request: JobRequest,
): { allowance: Allowance } | { approval: Approval } {
  const amount = BigInt(request.max_amount);
  const allowance = trySpend(request, amount);
  if (allowance !== null) {
    escrowFromBalance(request.payer, request.asset, amount);
    return { allowance };
  }
  lockStorage(request.payer, STORAGE_BYTES.approval, "approval request");
  const approval: Approval = {
    id: state.next_approval_id,
    request: { ...request, source: "approval" },
    requested_at: near.blockTimestamp().toString(),
  };
  state.next_approval_id = (BigInt(state.next_approval_id) + 1n).toString();
  writeRecord(approvalKey(approval.id), approval);
  approvalSet(request.payer).add(approval.id);
  emitEvent({ event: "approval_requested", data: approval });
  return { approval };
}

export function getApproval(id: string): Approval | null {
  return readRecord<Approval>(approvalKey(id));
}

function takeApproval(id: string): Approval {
  const approval = getApproval(id) ?? fail(`unknown approval request ${id}`);
  removeRecord(approvalKey(id));
  approvalSet(approval.request.payer).remove(id);
  unlockStorage(approval.request.payer, STORAGE_BYTES.approval);
  return approval;
}

/** The owner approves: the funds are locked from its balance and the job goes to the registry. */
export function approveJob(state: EscrowState, id: string): void {
  const approval = getApproval(id) ?? fail(`unknown approval request ${id}`);
  const caller = near.predecessorAccountId();
  if (caller !== approval.request.payer) {
    fail(`only ${approval.request.payer} may approve request ${id}; called by ${caller}`);
  }
  const request = approval.request;
  if (typeof request.keyset_sha256 !== "string") {
    fail(
      `approval request ${id} was made before jobs named the keyset they are encrypted to: ` +
        "reject it and ask again",
    );
  }
  if (request.max_price_per_unit === null) {
    fail(
      `approval request ${id} was made before jobs named the highest price per unit they accept: ` +
        "reject it and ask again",
    );
  }
  takeApproval(id);
  escrowFromBalance(request.payer, request.asset, BigInt(request.max_amount));
  requireStorageForJob(request.payer);
  const promise = askRegistry(state, request);
  emitEvent({ event: "approval_granted", data: approval });
  near.promiseReturn(promise);
}

/** The owner declines, or the spender withdraws its request. Nothing was locked but storage. */
export function rejectApproval(id: string): Approval {
  const approval = getApproval(id) ?? fail(`unknown approval request ${id}`);
  const caller = near.predecessorAccountId();
  if (caller !== approval.request.payer && caller !== approval.request.client) {
    fail(`only ${approval.request.payer} or ${approval.request.client} may reject request ${id}`);
  }
  takeApproval(id);
  emitEvent({ event: "approval_rejected", data: { ...approval, rejected_by: caller } });
  return approval;
}

export function listApprovals(owner: string, from: number, limit: number): Approval[] {
  const out: Approval[] = [];
  for (const id of approvalSet(owner).page(from, limit)) {
    const approval = getApproval(id);
    if (approval !== null) {
      out.push(approval);
    }
  }
  return out;
}
