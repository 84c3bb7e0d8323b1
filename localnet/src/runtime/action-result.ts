/** What applying actions of one receipt produced (nearcore's ActionResult) and how results merge. */
import type { GasProfileEntry, ReturnData } from "../vm/types.ts";
import type { ActionErrorView } from "./errors.ts";
import type { Receipt } from "./types.ts";

export interface ActionResult {
  gasBurnt: bigint;
  /** Burnt plus prepaid to the receipts created: what is not refunded on success. */
  gasUsed: bigint;
  gasBurntForFunctionCall: bigint;
  /** ReturnData index (kind "receiptIndex") refers to `newReceipts`. */
  result: { ok: ReturnData } | { error: ActionErrorView };
  logs: string[];
  /** Receipts created, ids still unset (filled when the receipt finishes). */
  newReceipts: Receipt[];
  profile: GasProfileEntry[];
}

export function emptyResult(gas: bigint): ActionResult {
  return {
    gasBurnt: gas,
    gasUsed: gas,
    gasBurntForFunctionCall: 0n,
    result: { ok: { kind: "none" } },
    logs: [],
    newReceipts: [],
    profile: [],
  };
}

export function isError(
  r: ActionResult,
): r is ActionResult & { result: { error: ActionErrorView } } {
  return "error" in r.result;
}

/** nearcore ActionResult::merge: sums gas, keeps the last result, drops receipts after an error. */
export function mergeResult(into: ActionResult, next: ActionResult): void {
  into.gasBurnt += next.gasBurnt;
  into.gasUsed += next.gasUsed;
  into.gasBurntForFunctionCall += next.gasBurntForFunctionCall;
  mergeProfile(into.profile, next.profile);
  into.logs.push(...next.logs);
  if ("ok" in next.result && next.result.ok.kind === "receiptIndex") {
    // A call's receipt index is local to its own receipts: shift it past the earlier ones.
    into.result = {
      ok: { kind: "receiptIndex", index: next.result.ok.index + into.newReceipts.length },
    };
  } else {
    into.result = next.result;
  }
  if ("ok" in into.result) into.newReceipts.push(...next.newReceipts);
  else into.newReceipts = [];
}

function mergeProfile(into: GasProfileEntry[], next: GasProfileEntry[]): void {
  for (const entry of next) {
    const same = into.find((e) => e.cost === entry.cost && e.costCategory === entry.costCategory);
    if (same === undefined) into.push({ ...entry });
    else same.gasUsed += entry.gasUsed;
  }
}
