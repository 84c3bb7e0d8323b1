/**
 * Transaction validation and charging (nearcore verifier.rs): stateless checks, then the signer's
 * account and access key: nonce, balance, allowance, storage stake, key permissions.
 */
import type { RuntimeConfig } from "../config/runtime-config.ts";
import { isValidAccountId } from "./account-id.ts";
import { validateActions } from "./action-validation.ts";
import { actionsValidation, invalidAccessKey, invalidTx } from "./errors.ts";
import { feeTable, type TransactionCost, transactionCost } from "./fees.ts";
import { publicKeyToString, verifySignature } from "./keys.ts";
import { storageStakeShortfall } from "./storage-staking.ts";
import type { AccessKey, Account, SignedTransaction, StateReader } from "./types.ts";
import { u64Json } from "./views.ts";

/** nearcore's AccessKey::ACCESS_KEY_NONCE_RANGE_MULTIPLIER. */
export const ACCESS_KEY_NONCE_RANGE_MULTIPLIER = 1_000_000n;

export interface VerifyContext {
  config: RuntimeConfig;
  gasPrice: bigint;
  /** Height of the block the transaction goes into: nonces must stay below height * 1e6. */
  blockHeight: bigint;
  /**
   * Whether the transaction's block_hash is a known block no older than transaction_validity_period
   * (100 blocks in localnet genesis); false gives Expired, as nearcore answers for unknown hashes too.
   */
  isBlockHashValid: (blockHash: Uint8Array) => boolean;
  /** Default true; the chunk application skips it for transactions already verified on entry. */
  verifySignature?: boolean;
}

export interface ChargedTransaction {
  cost: TransactionCost;
  signer: Account;
  accessKey: AccessKey;
}

/** Transactions whose signature was checked (validated on entry, then applied: verify once). */
const verifiedSignatures = new WeakSet<SignedTransaction>();

function checkStateless(tx: SignedTransaction, ctx: VerifyContext): TransactionCost {
  const t = tx.transaction;
  const limits = ctx.config.wasm_config.limit_config;
  if (!ctx.isBlockHashValid(t.blockHash)) throw invalidTx("Expired", null);
  if (tx.size > limits.max_transaction_size) {
    throw invalidTx("TransactionSizeExceeded", {
      size: tx.size,
      limit: limits.max_transaction_size,
    });
  }
  if (!isValidAccountId(t.signerId)) throw invalidTx("InvalidSignerId", { signer_id: t.signerId });
  if (!isValidAccountId(t.receiverId))
    throw invalidTx("InvalidReceiverId", { receiver_id: t.receiverId });
  if (ctx.verifySignature !== false && !verifiedSignatures.has(tx)) {
    if (!verifySignature(tx.hash, tx.signature, t.publicKey))
      throw invalidTx("InvalidSignature", null);
    verifiedSignatures.add(tx);
  }
  const actionsError = validateActions(limits, t.actions);
  if (actionsError !== null) throw actionsValidation(actionsError);
  const cost = transactionCost(feeTable(ctx.config), t, ctx.gasPrice);
  if (cost === null) throw invalidTx("CostOverflow", null);
  return cost;
}

/**
 * Checks a transaction against `state` and returns the signer's account and access key as they
 * are after charging it; throws an InvalidTxError (RuntimeInvalidTxError) otherwise.
 */
export function chargeTransaction(
  state: StateReader,
  tx: SignedTransaction,
  ctx: VerifyContext,
): ChargedTransaction {
  const cost = checkStateless(tx, ctx);
  const t = tx.transaction;
  const account = state.getAccount(t.signerId);
  if (account === null) throw invalidTx("SignerDoesNotExist", { signer_id: t.signerId });
  const key = state.getAccessKey(t.signerId, t.publicKey);
  const publicKey = (): string => publicKeyToString(t.publicKey);
  if (key === null)
    throw invalidAccessKey("AccessKeyNotFound", {
      account_id: t.signerId,
      public_key: publicKey(),
    });
  if (t.nonce <= key.nonce) {
    throw invalidTx("InvalidNonce", { tx_nonce: u64Json(t.nonce), ak_nonce: u64Json(key.nonce) });
  }
  const upperBound = ctx.blockHeight * ACCESS_KEY_NONCE_RANGE_MULTIPLIER;
  if (t.nonce >= upperBound) {
    throw invalidTx("NonceTooLarge", {
      tx_nonce: u64Json(t.nonce),
      upper_bound: u64Json(upperBound),
    });
  }
  if (account.amount < cost.totalCost) {
    throw invalidTx("NotEnoughBalance", {
      signer_id: t.signerId,
      balance: account.amount.toString(),
      cost: cost.totalCost.toString(),
    });
  }
  const signer: Account = { ...account, amount: account.amount - cost.totalCost };
  let permission = key.permission;
  if (permission.kind === "functionCall" && permission.allowance !== null) {
    if (permission.allowance < cost.totalCost) {
      throw invalidAccessKey("NotEnoughAllowance", {
        account_id: t.signerId,
        public_key: publicKey(),
        allowance: permission.allowance.toString(),
        cost: cost.totalCost.toString(),
      });
    }
    permission = { ...permission, allowance: permission.allowance - cost.totalCost };
  }
  const shortfall = storageStakeShortfall(signer, ctx.config);
  if (shortfall > 0n) {
    throw invalidTx("LackBalanceForState", { signer_id: t.signerId, amount: shortfall.toString() });
  }
  if (permission.kind === "functionCall") checkFunctionCallKey(tx, permission);
  return { cost, signer, accessKey: { nonce: t.nonce, permission } };
}

function checkFunctionCallKey(
  tx: SignedTransaction,
  permission: Extract<AccessKey["permission"], { kind: "functionCall" }>,
): void {
  const t = tx.transaction;
  const action = t.actions[0];
  if (t.actions.length !== 1 || action === undefined || action.kind !== "functionCall") {
    throw invalidAccessKey("RequiresFullAccess", null);
  }
  if (action.deposit > 0n) throw invalidAccessKey("DepositWithFunctionCall", null);
  if (t.receiverId !== permission.receiverId) {
    throw invalidAccessKey("ReceiverMismatch", {
      tx_receiver: t.receiverId,
      ak_receiver: permission.receiverId,
    });
  }
  if (permission.methodNames.length > 0 && !permission.methodNames.includes(action.methodName)) {
    throw invalidAccessKey("MethodNameMismatch", { method_name: action.methodName });
  }
}

/**
 * Validates a transaction against the current state before it enters the pool, as nearcore's RPC
 * does. Returns its cost; throws an InvalidTxError when it cannot be included.
 */
export function validateTransaction(
  state: StateReader,
  tx: SignedTransaction,
  ctx: VerifyContext,
): TransactionCost {
  return chargeTransaction(state, tx, ctx).cost;
}
