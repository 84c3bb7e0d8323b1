/**
 * One chunk of NEAR's state transition (nearcore runtime lib.rs `apply`): transactions become
 * receipts; local receipts (signer == receiver), delayed receipts and incoming receipts are applied
 * up to the chunk gas limit; action receipts wait for their input data; each receipt is atomic.
 */
import type { RunFunctionCall } from "../vm/types.ts";
import { isSystemAccount, isValidAccountId } from "./account-id.ts";
import { type ActionResult, emptyResult, isError, mergeResult } from "./action-result.ts";
import { validateActions } from "./action-validation.ts";
import { applyAction, type ReceiptEnv, refundReceipt } from "./actions.ts";
import { stateChangeViews } from "./change-views.ts";
import { actionError, actionFailure, type ErrorView, RuntimeInvalidTxError } from "./errors.ts";
import {
  type FeeTable,
  feeTable,
  totalDeposit,
  totalPrepaidExecFees,
  totalPrepaidGas,
  totalPrepaidSendFees,
} from "./fees.ts";
import { actionHash, receiptIdFromReceipt, receiptIdFromTransaction } from "./receipt-ids.ts";
import type { MemoryStateStore } from "./state-store.ts";
import { keys } from "./state-store.ts";
import { StateUpdate } from "./state-update.ts";
import { storageStakeShortfall } from "./storage-staking.ts";
import type {
  Action,
  ApplyContext,
  ApplyResult,
  ExecutionOutcome,
  ExecutionStatus,
  Receipt,
  SignedTransaction,
} from "./types.ts";
import { chargeTransaction } from "./verifier.ts";
import { hashToString } from "./views.ts";

type ActionBody = Extract<Receipt["body"], { kind: "action" }>;

export interface ApplyOptions {
  /** The VM that runs FunctionCall actions. */
  vm: RunFunctionCall;
  /** Default true: check signatures not already verified by validateTransaction on the same object. */
  verifySignatures?: boolean;
}

const DELAYED_INDICES_KEY = "indices";

class ChunkApplier {
  readonly update: StateUpdate;
  /** Trie nodes the chunk's function calls touched (nearcore's accounting cache). */
  readonly trieCache = new Set<string>();
  readonly fees: FeeTable;
  readonly result: ApplyResult = {
    transactionOutcomes: [],
    receiptOutcomes: [],
    outgoingReceipts: [],
    stateChanges: [],
    tokensBurnt: 0n,
    gasBurnt: 0n,
    invalidTransactions: [],
  };
  private readonly ctx: ApplyContext;
  private readonly options: ApplyOptions;

  constructor(store: MemoryStateStore, ctx: ApplyContext, options: ApplyOptions) {
    this.update = new StateUpdate(store);
    this.ctx = ctx;
    this.options = options;
    this.fees = feeTable(ctx.config);
  }

  run(transactions: SignedTransaction[], incoming: Receipt[]): ApplyResult {
    const local: Receipt[] = [];
    for (const tx of transactions) {
      const receipt = this.convertTransaction(tx);
      if (receipt !== null && receipt.receiverId === tx.transaction.signerId) local.push(receipt);
      else if (receipt !== null) this.result.outgoingReceipts.push(receipt);
    }
    for (const receipt of local) this.processOrDelay(receipt);
    this.processDelayed();
    for (const receipt of incoming) this.processOrDelay(receipt);
    this.result.stateChanges = stateChangeViews(this.update.changes);
    this.update.flush();
    return this.result;
  }

  private overLimit(): boolean {
    return this.result.gasBurnt >= this.ctx.gasLimit;
  }

  private convertTransaction(tx: SignedTransaction): Receipt | null {
    const t = tx.transaction;
    let charged: ReturnType<typeof chargeTransaction>;
    try {
      charged = chargeTransaction(this.update, tx, {
        config: this.ctx.config,
        gasPrice: this.ctx.gasPrice,
        blockHeight: this.ctx.blockHeight,
        isBlockHashValid: () => true,
        verifySignature: this.options.verifySignatures !== false,
      });
    } catch (error) {
      if (error instanceof RuntimeInvalidTxError) {
        this.result.invalidTransactions.push({ hash: tx.hash, error });
        return null;
      }
      throw error;
    }
    this.update.write("account", t.signerId, charged.signer);
    this.update.write("accessKey", keys.accessKey(t.signerId, t.publicKey), {
      publicKey: t.publicKey,
      accessKey: charged.accessKey,
    });
    this.update.commit({ type: "transaction_processing", txHash: tx.hash });
    const receiptId = receiptIdFromTransaction(tx.hash, this.ctx.blockHash);
    const outcome: ExecutionOutcome = {
      id: tx.hash,
      executorId: t.signerId,
      logs: [],
      receiptIds: [receiptId],
      gasBurnt: charged.cost.gasBurnt,
      tokensBurnt: charged.cost.burntAmount,
      status: { kind: "successReceiptId", receiptId },
      profile: [],
    };
    this.result.transactionOutcomes.push(outcome);
    this.result.gasBurnt += charged.cost.gasBurnt;
    this.result.tokensBurnt += charged.cost.burntAmount;
    return {
      predecessorId: t.signerId,
      receiverId: t.receiverId,
      receiptId,
      body: {
        kind: "action",
        signerId: t.signerId,
        signerPublicKey: t.publicKey,
        gasPrice: charged.cost.receiptGasPrice,
        outputDataReceivers: [],
        inputDataIds: [],
        actions: t.actions,
      },
    };
  }

  // ---------- delayed receipts (chunk gas limit) ----------

  private delayedIndices() {
    return this.update.read("delayedIndices", DELAYED_INDICES_KEY) ?? { first: 0, next: 0 };
  }

  private processOrDelay(receipt: Receipt): void {
    if (!this.overLimit()) {
      this.process(receipt);
      return;
    }
    const indices = this.delayedIndices();
    this.update.write("delayedReceipt", String(indices.next), receipt);
    this.update.write("delayedIndices", DELAYED_INDICES_KEY, {
      first: indices.first,
      next: indices.next + 1,
    });
    this.update.commit({ type: "not_writable_to_disk" });
  }

  private processDelayed(): void {
    while (!this.overLimit()) {
      const indices = this.delayedIndices();
      if (indices.first >= indices.next) return;
      const key = String(indices.first);
      const receipt = this.update.read("delayedReceipt", key) as Receipt;
      this.update.write("delayedReceipt", key, undefined);
      this.update.write("delayedIndices", DELAYED_INDICES_KEY, {
        first: indices.first + 1,
        next: indices.next,
      });
      this.update.commit({ type: "not_writable_to_disk" });
      this.process(receipt);
    }
  }

  // ---------- receipts ----------

  private process(receipt: Receipt): void {
    const receiverId = receipt.receiverId;
    const body = receipt.body;
    const cause = { type: "receipt_processing", receiptHash: receipt.receiptId };
    if (body.kind === "data") {
      this.update.write("receivedData", keys.byId(receiverId, body.dataId), { data: body.data });
      const waitingKey = keys.byId(receiverId, body.dataId);
      const waitingId = this.update.read("postponedReceiptId", waitingKey);
      if (waitingId === undefined) {
        this.update.commit(cause);
        return;
      }
      this.update.write("postponedReceiptId", waitingKey, undefined);
      const countKey = keys.byId(receiverId, waitingId);
      const pending = this.update.read("pendingDataCount", countKey) ?? 1;
      if (pending > 1) {
        this.update.write("pendingDataCount", countKey, pending - 1);
        this.update.commit(cause);
        return;
      }
      this.update.write("pendingDataCount", countKey, undefined);
      const ready = this.update.read("postponedReceipt", countKey) as Receipt;
      this.update.write("postponedReceipt", countKey, undefined);
      this.update.commit(cause);
      this.applyActionReceipt(ready);
      return;
    }
    let missing = 0;
    for (const id of body.inputDataIds) {
      if (this.update.read("receivedData", keys.byId(receiverId, id)) === undefined) {
        missing++;
        this.update.write("postponedReceiptId", keys.byId(receiverId, id), receipt.receiptId);
      }
    }
    if (missing === 0) {
      this.applyActionReceipt(receipt);
      return;
    }
    const key = keys.byId(receiverId, receipt.receiptId);
    this.update.write("pendingDataCount", key, missing);
    this.update.write("postponedReceipt", key, receipt);
    this.update.commit({
      type: "postponed_receipt",
      receiptHash: receipt.receiptId,
    });
  }

  private applyActionReceipt(receipt: Receipt): void {
    const body = receipt.body as ActionBody;
    const accountId = receipt.receiverId;
    const receiptHash = receipt.receiptId;
    const u = this.update;
    const ctx = this.ctx;
    const promiseResults = body.inputDataIds.map((id) => {
      const key = keys.byId(accountId, id);
      const received = u.read("receivedData", key);
      if (received === undefined)
        throw new Error(`received data ${hashToString(id)} for ${accountId} is missing`);
      u.write("receivedData", key, undefined);
      return received.data === null
        ? { kind: "failed" as const }
        : { kind: "successful" as const, data: received.data };
    });
    u.commit({ type: "action_receipt_processing_started", receiptHash });

    const stored = u.getAccount(accountId);
    const env: ReceiptEnv = {
      update: u,
      ctx,
      fees: this.fees,
      vm: this.options.vm,
      receipt,
      body,
      promiseResults,
      account: stored,
      actorId: receipt.predecessorId,
      trieCache: this.trieCache,
    };
    const result = emptyResult(this.fees.actionReceipt.exec);
    for (let i = 0; i < body.actions.length; i++) {
      const actionResult = applyAction(
        env,
        body.actions[i] as Action,
        i,
        actionHash(receipt.receiptId, ctx.blockHash, i),
      );
      if (!isError(actionResult)) {
        const invalid = firstInvalidReceipt(ctx, actionResult.newReceipts);
        if (invalid !== null)
          actionResult.result = {
            error: { index: i, kind: { NewReceiptValidationError: invalid } },
          };
      }
      mergeResult(result, actionResult);
      if (isError(result)) break;
    }
    if (!isError(result) && env.account !== null) {
      const shortfall = storageStakeShortfall(env.account, ctx.config);
      if (shortfall > 0n) {
        mergeResult(result, {
          ...emptyResult(0n),
          result: {
            error: actionError(null, "LackBalanceForState", {
              account_id: accountId,
              amount: shortfall.toString(),
            }),
          },
        });
      }
    }
    const isRefund = isSystemAccount(receipt.predecessorId);
    if (isError(result)) {
      u.rollback();
      // An undeliverable refund is burnt.
      if (isRefund) this.result.tokensBurnt += totalDeposit(body.actions);
    } else {
      if (env.account !== null) u.write("account", accountId, env.account);
      u.commit({ type: "receipt_processing", receiptHash });
    }

    const deficit = isRefund ? 0n : this.generateRefunds(receipt, body, result);
    const gasBurnt = isRefund ? 0n : result.gasBurnt;
    const tokensBurnt = gasBurnt * ctx.gasPrice - deficit;
    let burntAfterReward = tokensBurnt;
    const [rewardNum, rewardDen] = ctx.config.transaction_costs.burnt_gas_reward;
    const reward =
      ((result.gasBurntForFunctionCall * BigInt(rewardNum)) / BigInt(rewardDen)) * ctx.gasPrice -
      deficit;
    if (reward > 0n) {
      const account = u.getAccount(accountId);
      if (account !== null) {
        burntAfterReward -= reward;
        u.write("account", accountId, { ...account, amount: account.amount + reward });
        u.commit({ type: "action_receipt_gas_reward", receiptHash });
      }
    }

    this.sendOutputData(receipt, body, result);
    const receiptIds: Uint8Array[] = [];
    result.newReceipts.forEach((r, index) => {
      r.receiptId = receiptIdFromReceipt(receipt.receiptId, ctx.blockHash, index);
      if (r.body.kind === "action") receiptIds.push(r.receiptId);
      this.result.outgoingReceipts.push(r);
    });

    const outcome: ExecutionOutcome = {
      id: receipt.receiptId,
      executorId: accountId,
      logs: result.logs,
      receiptIds,
      gasBurnt: result.gasBurnt,
      tokensBurnt,
      status: this.status(result),
      profile: result.profile,
    };
    this.result.receiptOutcomes.push({ receipt, outcome });
    this.result.gasBurnt += result.gasBurnt;
    this.result.tokensBurnt += burntAfterReward;
  }

  private status(result: ActionResult): ExecutionStatus {
    if ("error" in result.result)
      return { kind: "failure", error: actionFailure(result.result.error) };
    const value = result.result.ok;
    if (value.kind === "receiptIndex") {
      const target = result.newReceipts[value.index];
      if (target === undefined)
        throw new Error(`returned receipt index ${value.index} does not exist`);
      return { kind: "successReceiptId", receiptId: target.receiptId };
    }
    return { kind: "successValue", value: value.kind === "value" ? value.data : new Uint8Array() };
  }

  /** The receipt's result goes to its data receivers, or forwards to the receipt it returned. */
  private sendOutputData(receipt: Receipt, body: ActionBody, result: ActionResult): void {
    if (body.outputDataReceivers.length === 0) return;
    if ("ok" in result.result && result.result.ok.kind === "receiptIndex") {
      const target = result.newReceipts[result.result.ok.index];
      if (target === undefined || target.body.kind !== "action") {
        throw new Error("returned receipt index does not name an action receipt");
      }
      target.body = {
        ...target.body,
        outputDataReceivers: [...target.body.outputDataReceivers, ...body.outputDataReceivers],
      };
      return;
    }
    let data: Uint8Array | null = null;
    if ("ok" in result.result)
      data = result.result.ok.kind === "value" ? result.result.ok.data : new Uint8Array();
    for (const r of body.outputDataReceivers) {
      result.newReceipts.push({
        predecessorId: receipt.receiverId,
        receiverId: r.receiverId,
        receiptId: new Uint8Array(32),
        body: { kind: "data", dataId: r.dataId, data },
      });
    }
  }

  /**
   * Refunds of a receipt (refund_gas_price_changes = true at protocol 77): the deposit when it
   * failed, and the unused gas at the purchase price plus the price difference on burnt gas.
   * Returns the gas price deficit (when the price rose above the purchase price).
   */
  private generateRefunds(receipt: Receipt, body: ActionBody, result: ActionResult): bigint {
    const t = this.fees;
    const failed = isError(result);
    const depositRefund = failed ? totalDeposit(body.actions) : 0n;
    const prepaid =
      totalPrepaidGas(body.actions) +
      totalPrepaidSendFees(t, body.actions) +
      totalPrepaidExecFees(t, body.actions, receipt.receiverId) +
      t.actionReceipt.exec;
    const spent = failed ? result.gasBurnt : result.gasUsed;
    const gasRefund = prepaid > spent ? prepaid - spent : 0n;
    let gasBalanceRefund = body.gasPrice * gasRefund;
    let deficit = 0n;
    const price = this.ctx.gasPrice;
    if (price > body.gasPrice) {
      deficit = (price - body.gasPrice) * result.gasBurnt;
      if (gasBalanceRefund >= deficit) {
        gasBalanceRefund -= deficit;
        deficit = 0n;
      } else {
        deficit -= gasBalanceRefund;
        gasBalanceRefund = 0n;
      }
    } else {
      gasBalanceRefund += (body.gasPrice - price) * result.gasBurnt;
    }
    if (depositRefund > 0n)
      result.newReceipts.push(refundReceipt(receipt.predecessorId, depositRefund));
    if (gasBalanceRefund > 0n) {
      const refund = refundReceipt(body.signerId, gasBalanceRefund);
      refund.body = {
        ...(refund.body as ActionBody),
        signerId: body.signerId,
        signerPublicKey: body.signerPublicKey,
      };
      result.newReceipts.push(refund);
    }
    return deficit;
  }
}

/** nearcore validate_receipt for receipts a contract creates: receiver id and actions. */
function firstInvalidReceipt(ctx: ApplyContext, receipts: Receipt[]): ErrorView | null {
  const limits = ctx.config.wasm_config.limit_config;
  for (const r of receipts) {
    if (!isValidAccountId(r.receiverId)) return { InvalidReceiverId: { account_id: r.receiverId } };
    if (r.body.kind !== "action") continue;
    if (r.body.inputDataIds.length > limits.max_number_input_data_dependencies) {
      return {
        NumberInputDataDependenciesExceeded: {
          number_of_input_data_dependencies: r.body.inputDataIds.length,
          limit: limits.max_number_input_data_dependencies,
        },
      };
    }
    const error = validateActions(limits, r.body.actions);
    if (error !== null) return { ActionsValidation: error };
  }
  return null;
}

/**
 * Applies one chunk: `transactions` (already validated on entry) and `incomingReceipts` (the
 * previous block's outgoing receipts). Writes the new state into `state`; the caller then seals it
 * with state.commitBlock(ctx.blockHeight).
 */
export function applyChunk(
  state: MemoryStateStore,
  ctx: ApplyContext,
  transactions: SignedTransaction[],
  incomingReceipts: Receipt[],
  options: ApplyOptions,
): ApplyResult {
  return new ChunkApplier(state, ctx, options).run(transactions, incomingReceipts);
}
