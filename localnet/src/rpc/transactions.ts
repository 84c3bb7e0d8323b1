/** send_tx, broadcast_tx_commit, broadcast_tx_async, tx, EXPERIMENTAL_tx_status, EXPERIMENTAL_receipt. */
import { once } from "node:events";
import { fromBase64, parseHash, toBase58 } from "../node/encoding.ts";
import { TransactionRejected } from "../node/node.ts";
import {
  reached,
  TX_EXECUTION_STATUSES,
  type TxExecutionStatus,
  type TxProgress,
  txProgress,
  txStatusView,
} from "../node/tx-status.ts";
import { receiptView } from "../node/views.ts";
import type { SignedTransaction } from "../runtime/types.ts";
import type { RpcContext } from "./context.ts";
import { handlerError, invalidTransactionError, parseError, timeoutError } from "./errors.ts";
import { paramsObject, parseField, requireString } from "./params.ts";

function decodeTransaction(ctx: RpcContext, base64: unknown): SignedTransaction {
  if (typeof base64 !== "string")
    throw parseError("Failed parsing args: `signed_tx_base64` must be a string");
  try {
    return ctx.node.runtime.decodeSignedTransaction(fromBase64(base64, "signed_tx_base64"));
  } catch (error) {
    throw parseError(`Failed to decode transaction: ${(error as Error).message}`);
  }
}

function parseWaitUntil(value: unknown): TxExecutionStatus {
  if (value === undefined || value === null) return "EXECUTED_OPTIMISTIC";
  if (!TX_EXECUTION_STATUSES.includes(value as TxExecutionStatus)) {
    throw parseError(
      `Failed parsing args: unknown wait_until ${JSON.stringify(value)}, expected one of ${TX_EXECUTION_STATUSES.join(", ")}`,
    );
  }
  return value as TxExecutionStatus;
}

/**
 * Waits until the transaction reaches `wanted`; TIMEOUT_ERROR when it does not in time. As
 * nearcore's RPC, a transaction the chunk dropped (no longer valid when the block was made, e.g.
 * a nonce another transaction of the key used first) is waited for until the timeout too: the
 * node cannot tell it from one still on its way.
 */
async function waitFor(
  ctx: RpcContext,
  hash: Uint8Array,
  wanted: TxExecutionStatus,
): Promise<TxProgress | null> {
  const deadline = Date.now() + ctx.txTimeoutMs;
  for (;;) {
    const progress = txProgress(ctx.node, hash);
    if (reached(progress, wanted)) return progress;
    const remaining = deadline - Date.now();
    if (remaining <= 0 || ctx.node.stopped) throw timeoutError();
    try {
      await once(ctx.node.events, "block", { signal: AbortSignal.timeout(remaining) });
    } catch {
      throw timeoutError();
    }
  }
}

function submit(ctx: RpcContext, tx: SignedTransaction): void {
  try {
    ctx.node.submit(tx);
  } catch (error) {
    if (error instanceof TransactionRejected) throw invalidTransactionError(error.view);
    throw error;
  }
}

async function sendAndWait(
  ctx: RpcContext,
  tx: SignedTransaction,
  wanted: TxExecutionStatus,
): Promise<unknown> {
  submit(ctx, tx);
  if (wanted === "NONE") return { final_execution_status: "NONE" };
  return txStatusView(await waitFor(ctx, tx.hash, wanted), false);
}

export async function sendTx(params: unknown, ctx: RpcContext): Promise<unknown> {
  const named = paramsObject(params, "send_tx");
  const tx = decodeTransaction(ctx, named.signed_tx_base64);
  return sendAndWait(ctx, tx, parseWaitUntil(named.wait_until));
}

function positionalTransaction(params: unknown, method: string): unknown {
  if (!Array.isArray(params) || typeof params[0] !== "string") {
    throw parseError(`Failed parsing args: ${method} expects [signed_tx_base64]`);
  }
  return params[0];
}

export async function broadcastTxCommit(params: unknown, ctx: RpcContext): Promise<unknown> {
  const tx = decodeTransaction(ctx, positionalTransaction(params, "broadcast_tx_commit"));
  return sendAndWait(ctx, tx, "EXECUTED_OPTIMISTIC");
}

export function broadcastTxAsync(params: unknown, ctx: RpcContext): unknown {
  const tx = decodeTransaction(ctx, positionalTransaction(params, "broadcast_tx_async"));
  try {
    ctx.node.submit(tx);
  } catch (error) {
    // As nearcore: the hash comes back at once; an invalid transaction is simply never included.
    if (!(error instanceof TransactionRejected)) throw error;
  }
  return toBase58(tx.hash);
}

async function txStatus(params: unknown, ctx: RpcContext, withReceipts: boolean): Promise<unknown> {
  let hash: Uint8Array;
  let wanted: TxExecutionStatus = "EXECUTED_OPTIMISTIC";
  if (Array.isArray(params)) {
    const [first, second] = params;
    if (typeof first !== "string")
      throw parseError("Failed parsing args: expected [tx_hash, sender_account_id]");
    hash =
      typeof second === "string"
        ? parseField("tx_hash", () => parseHash(first, "tx_hash"))
        : decodeTransaction(ctx, first).hash;
  } else {
    const named = paramsObject(params, "tx");
    wanted = parseWaitUntil(named.wait_until);
    if (named.signed_tx_base64 !== undefined) {
      hash = decodeTransaction(ctx, named.signed_tx_base64).hash;
    } else {
      const text = requireString(named, "tx_hash");
      requireString(named, "sender_account_id");
      hash = parseField("tx_hash", () => parseHash(text, "tx_hash"));
    }
  }
  if (!txProgress(ctx.node, hash) && !ctx.node.isPending(hash)) {
    const id = toBase58(hash);
    throw handlerError(
      "UNKNOWN_TRANSACTION",
      { requested_transaction_hash: id },
      `Transaction ${id} doesn't exist`,
    );
  }
  if (wanted === "NONE") return txStatusView(txProgress(ctx.node, hash), withReceipts);
  return txStatusView(await waitFor(ctx, hash, wanted), withReceipts);
}

export function tx(params: unknown, ctx: RpcContext): Promise<unknown> {
  return txStatus(params, ctx, false);
}

export function experimentalTxStatus(params: unknown, ctx: RpcContext): Promise<unknown> {
  return txStatus(params, ctx, true);
}

export function experimentalReceipt(params: unknown, ctx: RpcContext): unknown {
  const named = paramsObject(params, "EXPERIMENTAL_receipt");
  const text = requireString(named, "receipt_id");
  const id = parseField("receipt_id", () => parseHash(text, "receipt_id"));
  const receipt = ctx.node.chain.receipt(id);
  if (!receipt) {
    throw handlerError(
      "UNKNOWN_RECEIPT",
      { receipt_id: text },
      `Receipt with id ${text} has never been observed on this node`,
    );
  }
  return receiptView(receipt);
}
