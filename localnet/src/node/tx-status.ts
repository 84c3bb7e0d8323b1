/**
 * A transaction's execution as the `tx`/`send_tx` family reports it: the outcome tree (the
 * transaction's outcome, then every receipt outcome depth first), the final status, and how far
 * it has got (nearcore's TxExecutionStatus).
 */
import type { CryptoHash, Receipt, SignedTransaction } from "../runtime/types.ts";
import type { Block, LocatedOutcome } from "./chain.ts";
import { bytesEqual } from "./encoding.ts";
import type { LocalNode } from "./node.ts";
import { outcomeView, receiptView, transactionView } from "./views.ts";

export const TX_EXECUTION_STATUSES = [
  "NONE",
  "INCLUDED",
  "EXECUTED_OPTIMISTIC",
  "INCLUDED_FINAL",
  "EXECUTED",
  "FINAL",
] as const;
export type TxExecutionStatus = (typeof TX_EXECUTION_STATUSES)[number];

export interface TxProgress {
  tx: SignedTransaction;
  block: Block;
  transactionOutcome: LocatedOutcome;
  /** Receipt outcomes found so far, depth first. */
  receiptOutcomes: LocatedOutcome[];
  /** Every receipt of the tree has been executed. */
  executed: boolean;
  /** The transaction's block is final. */
  includedFinal: boolean;
  /** Every block holding an outcome of the tree is final. */
  allFinal: boolean;
}

export function txProgress(node: LocalNode, hash: CryptoHash): TxProgress | null {
  const included = node.chain.transaction(hash);
  const transactionOutcome = node.chain.outcome(hash);
  if (!included || !transactionOutcome) return null;
  const receiptOutcomes: LocatedOutcome[] = [];
  let executed = true;
  const visit = (ids: CryptoHash[]): void => {
    for (const id of ids) {
      const located = node.chain.outcome(id);
      if (!located) {
        executed = false;
        continue;
      }
      receiptOutcomes.push(located);
      visit(located.outcome.receiptIds);
    }
  };
  visit(transactionOutcome.outcome.receiptIds);
  const includedFinal = node.isFinal(included.block);
  const allFinal = includedFinal && receiptOutcomes.every((o) => node.isFinal(o.block));
  return {
    tx: included.tx,
    block: included.block,
    transactionOutcome,
    receiptOutcomes,
    executed,
    includedFinal,
    allFinal,
  };
}

export function currentStatus(progress: TxProgress | null): TxExecutionStatus {
  if (!progress) return "NONE";
  if (progress.executed && progress.allFinal) return "FINAL";
  if (progress.executed && progress.includedFinal) return "EXECUTED";
  if (progress.includedFinal) return "INCLUDED_FINAL";
  if (progress.executed) return "EXECUTED_OPTIMISTIC";
  return "INCLUDED";
}

/** Whether a transaction that has got to `progress` satisfies a wait for `wanted`. */
export function reached(progress: TxProgress | null, wanted: TxExecutionStatus): boolean {
  if (wanted === "NONE") return true;
  if (!progress) return false;
  switch (wanted) {
    case "INCLUDED":
      return true;
    case "EXECUTED_OPTIMISTIC":
      return progress.executed;
    case "INCLUDED_FINAL":
      return progress.includedFinal;
    case "EXECUTED":
      return progress.executed && progress.includedFinal;
    case "FINAL":
      return progress.executed && progress.allFinal;
  }
}

/** FinalExecutionStatus: follow SuccessReceiptId links from the transaction's outcome. */
function finalStatusView(progress: TxProgress): unknown {
  let lookingFor = progress.transactionOutcome.outcome.id;
  const all = [progress.transactionOutcome, ...progress.receiptOutcomes];
  for (const { outcome } of all) {
    if (!bytesEqual(outcome.id, lookingFor)) continue;
    const status = outcome.status;
    if (status.kind === "failure") return { Failure: status.error };
    if (status.kind === "successValue")
      return { SuccessValue: Buffer.from(status.value).toString("base64") };
    lookingFor = status.receiptId;
  }
  return all.length === 1 ? "NotStarted" : "Started";
}

/**
 * RpcTransactionResponse: the final execution outcome (with `receipts` for
 * EXPERIMENTAL_tx_status) once executed, plus final_execution_status.
 */
export function txStatusView(
  progress: TxProgress | null,
  withReceipts: boolean,
): Record<string, unknown> {
  const status = currentStatus(progress);
  if (!progress?.executed) return { final_execution_status: status };
  const view: Record<string, unknown> = {
    status: finalStatusView(progress),
    transaction: transactionView(progress.tx),
    transaction_outcome: outcomeView(
      progress.transactionOutcome.outcome,
      progress.transactionOutcome.block,
      true,
    ),
    receipts_outcome: progress.receiptOutcomes.map((o) => outcomeView(o.outcome, o.block, false)),
  };
  if (withReceipts) {
    view.receipts = progress.receiptOutcomes
      .map(receiptOf)
      .filter((r): r is Receipt => r !== undefined)
      .map(receiptView);
  }
  view.final_execution_status = status;
  return view;
}

function receiptOf(located: LocatedOutcome): Receipt | undefined {
  return located.block.receiptOutcomes.find((r) => bytesEqual(r.outcome.id, located.outcome.id))
    ?.receipt;
}
