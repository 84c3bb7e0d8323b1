/**
 * A small stand-in for the runtime and the VM, so that the node, RPC and stream are tested on
 * their own: the real state store, transaction codec and verifier, with a chunk application that
 * knows only CreateAccount, Transfer and AddKey, and a VM whose view methods echo their input.
 * Each transaction becomes a receipt applied in the next block, as for a non-local receipt.
 */

import { publicKeyToString, sha256 } from "../../src/node/encoding.ts";
import type { RuntimeApi } from "../../src/node/runtime-api.ts";
import { MemoryStateStore } from "../../src/runtime/state-store.ts";
import { decodeSignedTransaction } from "../../src/runtime/transaction-codec.ts";
import type {
  ApplyResult,
  ExecutionOutcome,
  Receipt,
  StateStore,
} from "../../src/runtime/types.ts";
import { validateTransaction } from "../../src/runtime/verifier.ts";
import { accessKeyToView, accountToView } from "../../src/runtime/views.ts";
import type { RunFunctionCall } from "../../src/vm/types.ts";

export const FAKE_TX_GAS = 2_428_000_000_000n;

function outcome(
  id: Uint8Array,
  executorId: string,
  status: ExecutionOutcome["status"],
  logs: string[] = [],
): ExecutionOutcome {
  return {
    id,
    executorId,
    logs,
    receiptIds: [],
    gasBurnt: FAKE_TX_GAS,
    tokensBurnt: FAKE_TX_GAS * 100_000_000n,
    status,
    profile: [],
  };
}

function applyReceipt(state: StateStore, receipt: Receipt): ExecutionOutcome {
  if (receipt.body.kind !== "action")
    throw new Error("fake runtime: data receipts are not supported");
  let account = state.getAccount(receipt.receiverId);
  const records: Record<string, unknown>[] = [];
  const logs: string[] = [];
  for (const [index, action] of receipt.body.actions.entries()) {
    if (action.kind === "createAccount") {
      account = { amount: 0n, locked: 0n, codeHash: new Uint8Array(32), storageUsage: 100n };
    } else if (!account) {
      return outcome(receipt.receiptId, receipt.receiverId, {
        kind: "failure",
        error: {
          ActionError: { index, kind: { AccountDoesNotExist: { account_id: receipt.receiverId } } },
        },
      });
    } else if (action.kind === "transfer") {
      account = { ...account, amount: account.amount + action.deposit };
      logs.push(`received ${action.deposit}`);
    } else if (action.kind === "addKey") {
      records.push({
        AccessKey: {
          account_id: receipt.receiverId,
          public_key: publicKeyToString(action.publicKey),
          access_key: accessKeyToView({
            nonce: action.nonce,
            permission: action.permission,
          }),
        },
      });
    } else {
      throw new Error(`fake runtime: action ${action.kind} is not supported`);
    }
  }
  if (account)
    records.unshift({
      Account: { account_id: receipt.receiverId, account: accountToView(account) },
    });
  state.applyRecords(records);
  return outcome(
    receipt.receiptId,
    receipt.receiverId,
    { kind: "successValue", value: new Uint8Array(0) },
    logs,
  );
}

export const fakeRunFunctionCall: RunFunctionCall = (input) => {
  const base = {
    balance: 0n,
    storageUsage: 0n,
    burntGas: 1n,
    usedGas: 1n,
    profile: [],
    receipts: [],
  };
  if (input.methodName === "panic") {
    return {
      ...base,
      returnData: { kind: "none" },
      logs: [],
      aborted: {
        view: { ExecutionError: "Smart contract panicked: boom" },
        debug: 'HostError(GuestPanic { panic_msg: "boom" })',
      },
    };
  }
  return {
    ...base,
    returnData: { kind: "value", data: input.context.input },
    logs: [`viewed ${input.methodName}`],
    aborted: null,
  };
};

export function fakeRuntime(): RuntimeApi {
  return {
    createStateStore: () => new MemoryStateStore(),
    decodeSignedTransaction,
    validateTransaction: (state, tx, ctx) => {
      validateTransaction(state, tx, ctx);
    },
    applyChunk(state, ctx, transactions, receipts): ApplyResult {
      const transactionOutcomes: ExecutionOutcome[] = [];
      const outgoingReceipts: Receipt[] = [];
      for (const tx of transactions) {
        const { signerId, publicKey, receiverId, nonce } = tx.transaction;
        const key = state.getAccessKey(signerId, publicKey);
        const signer = state.getAccount(signerId);
        if (!key || !signer || nonce <= key.nonce) continue; // dropped, as an invalid transaction
        const deposit = tx.transaction.actions.reduce(
          (sum, a) => sum + (a.kind === "transfer" ? a.deposit : 0n),
          0n,
        );
        const cost = FAKE_TX_GAS * ctx.gasPrice;
        state.applyRecords([
          {
            Account: {
              account_id: signerId,
              account: accountToView({ ...signer, amount: signer.amount - deposit - cost }),
            },
          },
          {
            AccessKey: {
              account_id: signerId,
              public_key: publicKeyToString(publicKey),
              access_key: accessKeyToView({ ...key, nonce }),
            },
          },
        ]);
        const receiptId = sha256(tx.hash);
        outgoingReceipts.push({
          predecessorId: signerId,
          receiverId,
          receiptId,
          body: {
            kind: "action",
            signerId,
            signerPublicKey: publicKey,
            gasPrice: ctx.gasPrice,
            outputDataReceivers: [],
            inputDataIds: [],
            actions: tx.transaction.actions,
          },
        });
        transactionOutcomes.push({
          ...outcome(tx.hash, signerId, { kind: "successReceiptId", receiptId }),
          receiptIds: [receiptId],
        });
      }
      const receiptOutcomes = receipts.map((receipt) => ({
        receipt,
        outcome: applyReceipt(state, receipt),
      }));
      const all = [...transactionOutcomes, ...receiptOutcomes.map((r) => r.outcome)];
      return {
        transactionOutcomes,
        receiptOutcomes,
        outgoingReceipts,
        stateChanges: receiptOutcomes.map(({ receipt }) => ({
          cause: {
            type: "receipt_processing",
            receipt_hash: Buffer.from(receipt.receiptId).toString("hex"),
          },
          type: "account_update",
          change: { account_id: receipt.receiverId },
        })),
        tokensBurnt: all.reduce((sum, o) => sum + o.tokensBurnt, 0n),
        gasBurnt: all.reduce((sum, o) => sum + o.gasBurnt, 0n),
        invalidTransactions: [],
      };
    },
    runFunctionCall: fakeRunFunctionCall,
  };
}
