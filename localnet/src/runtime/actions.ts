/**
 * Applying one action of an action receipt to the receiver's account (nearcore actions.rs):
 * existence and permission checks, then the action itself. Errors go into the ActionResult;
 * the caller rolls the receipt back.
 */
import type { FunctionCallInput, PromiseResult, RunFunctionCall, VMContext } from "../vm/types.ts";
import {
  isDirectSubAccountOf,
  isEthImplicit,
  isImplicit,
  isNearImplicit,
  isSystemAccount,
  isTopLevel,
} from "./account-id.ts";
import { type ActionResult, emptyResult } from "./action-result.ts";
import { actionError, type ErrorView, variant } from "./errors.ts";
import {
  execFee,
  type FeeTable,
  totalPrepaidExecFees,
  totalPrepaidGas,
  totalPrepaidSendFees,
} from "./fees.ts";
import { publicKeyToString, verifySignature } from "./keys.ts";
import { dataId } from "./receipt-ids.ts";
import { accessKeyStorage, keys } from "./state-store.ts";
import type { StateUpdate } from "./state-update.ts";
import { delegateActionHash, sha256 } from "./transaction-codec.ts";
import { AccountTrie } from "./trie-model.ts";
import type { AccessKey, Account, Action, ApplyContext, DelegateAction, Receipt } from "./types.ts";
import { ACCESS_KEY_NONCE_RANGE_MULTIPLIER } from "./verifier.ts";
import { u64Json, ZERO_HASH } from "./views.ts";

type ActionBody = Extract<Receipt["body"], { kind: "action" }>;

/** nearcore's Account::MAX_ACCOUNT_DELETION_STORAGE_USAGE. */
const MAX_ACCOUNT_DELETION_STORAGE_USAGE = 10_000n;

export interface ReceiptEnv {
  update: StateUpdate;
  ctx: ApplyContext;
  fees: FeeTable;
  vm: RunFunctionCall;
  receipt: Receipt;
  body: ActionBody;
  promiseResults: PromiseResult[];
  /** The receiver's account as the actions change it (null: absent or deleted). */
  account: Account | null;
  /** Who acts on the receiver: its predecessor, or the receiver itself once it created itself. */
  actorId: string;
  /** Trie nodes touched so far in the chunk (nearcore's accounting cache). */
  trieCache: Set<string>;
}

function fail(
  result: ActionResult,
  index: number,
  kind: string,
  fields: Record<string, unknown> | null,
): ActionResult {
  result.result = { error: actionError(index, kind, fields) };
  return result;
}

function failWith(result: ActionResult, index: number, kind: ErrorView): ActionResult {
  result.result = { error: { index, kind } };
  return result;
}

export function applyAction(
  env: ReceiptEnv,
  action: Action,
  index: number,
  actionHashValue: Uint8Array,
): ActionResult {
  const accountId = env.receipt.receiverId;
  const result = emptyResult(execFee(env.fees, action, accountId));
  const isRefund = isSystemAccount(env.receipt.predecessorId);

  // Account existence.
  if (action.kind === "createAccount") {
    if (env.account !== null)
      return fail(result, index, "AccountAlreadyExists", { account_id: accountId });
    if (env.fees.implicitAccountCreation && isImplicit(accountId)) {
      return fail(result, index, "OnlyImplicitAccountCreationAllowed", { account_id: accountId });
    }
  } else if (action.kind === "transfer") {
    const implicitCreation =
      env.body.actions.length === 1 &&
      !isRefund &&
      env.fees.implicitAccountCreation &&
      isImplicitTarget(env, accountId);
    if (env.account === null && !implicitCreation) {
      return fail(result, index, "AccountDoesNotExist", { account_id: accountId });
    }
  } else if (env.account === null) {
    return fail(result, index, "AccountDoesNotExist", { account_id: accountId });
  }

  // Actor permissions.
  if (
    action.kind === "deployContract" ||
    action.kind === "stake" ||
    action.kind === "addKey" ||
    action.kind === "deleteKey" ||
    action.kind === "deleteAccount"
  ) {
    if (env.actorId !== accountId) {
      return fail(result, index, "ActorNoPermission", {
        account_id: accountId,
        actor_id: env.actorId,
      });
    }
    if (action.kind === "deleteAccount" && (env.account as Account).locked !== 0n) {
      return fail(result, index, "DeleteAccountStaking", { account_id: accountId });
    }
  }

  const account = env.account as Account;
  switch (action.kind) {
    case "createAccount":
      return createAccount(env, result, index);
    case "deployContract": {
      const prev = env.update.getCode(accountId);
      const usage = account.storageUsage - BigInt(prev?.length ?? 0) + BigInt(action.code.length);
      env.account = {
        ...account,
        storageUsage: usage < 0n ? 0n : usage,
        codeHash: sha256(action.code),
      };
      env.update.write("code", accountId, action.code);
      return result;
    }
    case "functionCall":
      return functionCall(env, result, action, index, actionHashValue);
    case "transfer":
      if (env.account === null) return createImplicitAccount(env, result, action.deposit);
      env.account = { ...account, amount: account.amount + action.deposit };
      // A gas refund gives the allowance back to the function-call key that paid for the gas.
      if (isRefund && env.body.signerId === accountId) refundAllowance(env, action.deposit);
      return result;
    case "stake":
      return stake(env, result, action.stake, index);
    case "addKey": {
      const key = keys.accessKey(accountId, action.publicKey);
      if (env.update.read("accessKey", key) !== undefined) {
        return fail(result, index, "AddKeyAlreadyExists", {
          account_id: accountId,
          public_key: publicKeyToString(action.publicKey),
        });
      }
      const accessKey: AccessKey = {
        nonce: (env.ctx.blockHeight - 1n) * ACCESS_KEY_NONCE_RANGE_MULTIPLIER,
        permission: action.permission,
      };
      env.update.write("accessKey", key, { publicKey: action.publicKey, accessKey });
      env.account = {
        ...account,
        storageUsage: account.storageUsage + accessKeyStorage(action.publicKey, accessKey),
      };
      return result;
    }
    case "deleteKey": {
      const key = keys.accessKey(accountId, action.publicKey);
      const stored = env.update.read("accessKey", key);
      if (stored === undefined) {
        return fail(result, index, "DeleteKeyDoesNotExist", {
          account_id: accountId,
          public_key: publicKeyToString(action.publicKey),
        });
      }
      env.update.write("accessKey", key, undefined);
      const usage = account.storageUsage - accessKeyStorage(stored.publicKey, stored.accessKey);
      env.account = { ...account, storageUsage: usage < 0n ? 0n : usage };
      return result;
    }
    case "deleteAccount":
      return deleteAccount(env, result, action.beneficiaryId, index);
    case "delegate":
      return delegate(env, result, action.delegateAction, action.signature, index);
  }
}

function isImplicitTarget(env: ReceiptEnv, accountId: string): boolean {
  return isNearImplicit(accountId) || (env.fees.ethImplicitAccounts && isEthImplicit(accountId));
}

function createAccount(env: ReceiptEnv, result: ActionResult, index: number): ActionResult {
  const accountId = env.receipt.receiverId;
  const predecessorId = env.receipt.predecessorId;
  const creation = env.ctx.config.account_creation_config;
  if (isTopLevel(accountId)) {
    if (
      accountId.length < creation.min_allowed_top_level_account_length &&
      predecessorId !== creation.registrar_account_id
    ) {
      return fail(result, index, "CreateAccountOnlyByRegistrar", {
        account_id: accountId,
        registrar_account_id: creation.registrar_account_id,
        predecessor_id: predecessorId,
      });
    }
  } else if (!isDirectSubAccountOf(accountId, predecessorId)) {
    return fail(result, index, "CreateAccountNotAllowed", {
      account_id: accountId,
      predecessor_id: predecessorId,
    });
  }
  env.actorId = accountId;
  env.account = {
    amount: 0n,
    locked: 0n,
    codeHash: ZERO_HASH,
    storageUsage: BigInt(env.ctx.config.transaction_costs.storage_usage_config.num_bytes_account),
  };
  return result;
}

function createImplicitAccount(
  env: ReceiptEnv,
  result: ActionResult,
  deposit: bigint,
): ActionResult {
  const accountId = env.receipt.receiverId;
  const storage = env.ctx.config.transaction_costs.storage_usage_config;
  let usage = BigInt(storage.num_bytes_account);
  if (isNearImplicit(accountId)) {
    // The account's id is its ed25519 key in hex; the key starts with a nonce nobody used yet.
    const publicKey = { keyType: 0 as const, data: new Uint8Array(Buffer.from(accountId, "hex")) };
    const accessKey: AccessKey = {
      nonce: (env.ctx.blockHeight - 1n) * ACCESS_KEY_NONCE_RANGE_MULTIPLIER,
      permission: { kind: "fullAccess" },
    };
    env.update.write("accessKey", keys.accessKey(accountId, publicKey), { publicKey, accessKey });
    usage += accessKeyStorage(publicKey, accessKey);
  }
  env.actorId = accountId;
  env.account = { amount: deposit, locked: 0n, codeHash: ZERO_HASH, storageUsage: usage };
  return result;
}

function refundAllowance(env: ReceiptEnv, amount: bigint): void {
  const key = keys.accessKey(env.receipt.receiverId, env.body.signerPublicKey);
  const stored = env.update.read("accessKey", key);
  if (stored === undefined) return;
  const p = stored.accessKey.permission;
  if (p.kind !== "functionCall" || p.allowance === null) return;
  env.update.write("accessKey", key, {
    publicKey: stored.publicKey,
    accessKey: { ...stored.accessKey, permission: { ...p, allowance: p.allowance + amount } },
  });
}

function stake(env: ReceiptEnv, result: ActionResult, amount: bigint, index: number): ActionResult {
  const account = env.account as Account;
  const accountId = env.receipt.receiverId;
  const increment = amount > account.locked ? amount - account.locked : 0n;
  if (account.amount < increment) {
    return fail(result, index, "TriesToStake", {
      account_id: accountId,
      stake: amount.toString(),
      locked: account.locked.toString(),
      balance: account.amount.toString(),
    });
  }
  if (account.locked === 0n && amount === 0n)
    return fail(result, index, "TriesToUnstake", { account_id: accountId });
  // localnet has no validator set changes: a stake locks the amount and stays locked.
  if (amount > account.locked)
    env.account = { ...account, amount: account.amount - increment, locked: amount };
  return result;
}

function deleteAccount(
  env: ReceiptEnv,
  result: ActionResult,
  beneficiaryId: string,
  index: number,
): ActionResult {
  const account = env.account as Account;
  const accountId = env.receipt.receiverId;
  const code = env.update.getCode(accountId);
  const usage = account.storageUsage - BigInt(code?.length ?? 0);
  if (usage > MAX_ACCOUNT_DELETION_STORAGE_USAGE) {
    return fail(result, index, "DeleteAccountWithLargeState", { account_id: accountId });
  }
  if (account.amount > 0n) result.newReceipts.push(refundReceipt(beneficiaryId, account.amount));
  const u = env.update;
  u.write("account", accountId, undefined);
  u.write("code", accountId, undefined);
  for (const key of u.keysOf("accessKey", accountId)) u.write("accessKey", key, undefined);
  for (const key of u.keysOf("data", accountId)) u.write("data", key, undefined);
  env.actorId = env.receipt.predecessorId;
  env.account = null;
  return result;
}

/** A refund from "system": costs no gas, burnt if it cannot be delivered. */
export function refundReceipt(receiverId: string, amount: bigint): Receipt {
  return {
    predecessorId: "system",
    receiverId,
    receiptId: new Uint8Array(32),
    body: {
      kind: "action",
      signerId: "system",
      signerPublicKey: { keyType: 0, data: new Uint8Array(32) },
      gasPrice: 0n,
      outputDataReceivers: [],
      inputDataIds: [],
      actions: [{ kind: "transfer", deposit: amount }],
    },
  };
}

function functionCall(
  env: ReceiptEnv,
  result: ActionResult,
  action: Extract<Action, { kind: "functionCall" }>,
  index: number,
  actionHashValue: Uint8Array,
): ActionResult {
  const account = env.account as Account;
  const accountId = env.receipt.receiverId;
  const code = account.codeHash.some((b) => b !== 0) ? env.update.getCode(accountId) : null;
  if (code === null) {
    return failWith(result, index, {
      FunctionCallError: { CompilationError: { CodeDoesNotExist: { account_id: accountId } } },
    });
  }
  const body = env.body;
  const signerPk = new Uint8Array(1 + body.signerPublicKey.data.length);
  signerPk[0] = body.signerPublicKey.keyType;
  signerPk.set(body.signerPublicKey.data, 1);
  const context: VMContext = {
    currentAccountId: accountId,
    signerAccountId: body.signerId,
    signerAccountPk: signerPk,
    predecessorAccountId: env.receipt.predecessorId,
    input: action.args,
    promiseResults: env.promiseResults,
    blockHeight: env.ctx.blockHeight,
    blockTimestamp: env.ctx.blockTimestamp,
    epochHeight: env.ctx.epochHeight,
    accountBalance: account.amount + action.deposit,
    accountLockedBalance: account.locked,
    storageUsage: account.storageUsage,
    attachedDeposit: action.deposit,
    prepaidGas: action.gas,
    randomSeed: env.ctx.randomSeed,
    view: null,
    outputDataReceivers: body.outputDataReceivers.map((r) => r.receiverId),
  };
  const input: FunctionCallInput = {
    code,
    codeHash: account.codeHash,
    methodName: action.methodName,
    context,
    ext: contractExternal(env, accountId, actionHashValue),
  };
  const outcome = env.vm(input);
  result.gasBurnt += outcome.burntGas;
  result.gasBurntForFunctionCall += outcome.burntGas;
  result.gasUsed += outcome.usedGas;
  result.logs.push(...outcome.logs);
  result.profile.push(...outcome.profile);
  if (outcome.aborted !== null)
    return failWith(result, index, { FunctionCallError: outcome.aborted.view });
  env.account = { ...account, amount: outcome.balance, storageUsage: outcome.storageUsage };
  result.result = { ok: outcome.returnData };
  for (const draft of outcome.receipts) {
    result.newReceipts.push({
      predecessorId: accountId,
      receiverId: draft.receiverId,
      receiptId: new Uint8Array(32),
      body: {
        kind: "action",
        signerId: body.signerId,
        signerPublicKey: body.signerPublicKey,
        gasPrice: body.gasPrice,
        outputDataReceivers: draft.outputDataReceivers,
        inputDataIds: draft.inputDataIds,
        actions: draft.actions,
      },
    });
  }
  return result;
}

function contractExternal(env: ReceiptEnv, accountId: string, actionHashValue: Uint8Array) {
  const { update, ctx } = env;
  let dataCount = 0;
  const trie = new AccountTrie(accountId, env.trieCache, () =>
    [...update.keysOf("data", accountId)].map((k) => k.slice(accountId.length + 1)),
  );
  return {
    storageGet: (key: Uint8Array) => update.read("data", keys.data(accountId, key)) ?? null,
    storageSet: (key: Uint8Array, value: Uint8Array) => {
      const k = keys.data(accountId, key);
      const prev = update.read("data", k) ?? null;
      update.write("data", k, value.slice());
      trie.added(key);
      return prev;
    },
    storageRemove: (key: Uint8Array) => {
      const k = keys.data(accountId, key);
      const prev = update.read("data", k) ?? null;
      if (prev !== null) update.write("data", k, undefined);
      trie.removed(key);
      return prev;
    },
    storageHasKey: (key: Uint8Array) =>
      update.read("data", keys.data(accountId, key)) !== undefined,
    trieAccess: (key: Uint8Array, readsValue: boolean) => trie.access(key, readsValue),
    generateDataId: () => dataId(actionHashValue, ctx.blockHash, dataCount++),
    validatorStake: (id: string) => ctx.validators.get(id) ?? null,
    validatorTotalStake: () => [...ctx.validators.values()].reduce((a, b) => a + b, 0n),
  };
}

function delegate(
  env: ReceiptEnv,
  result: ActionResult,
  d: DelegateAction,
  signature: { keyType: 0 | 1; data: Uint8Array },
  index: number,
): ActionResult {
  if (!verifySignature(delegateActionHash(d), signature, d.publicKey)) {
    return fail(result, index, "DelegateActionInvalidSignature", null);
  }
  if (env.ctx.blockHeight > d.maxBlockHeight)
    return fail(result, index, "DelegateActionExpired", null);
  if (d.senderId !== env.receipt.receiverId) {
    return fail(result, index, "DelegateActionSenderDoesNotMatchTxReceiver", {
      sender_id: d.senderId,
      receiver_id: env.receipt.receiverId,
    });
  }
  const keyError = checkDelegateKey(env, d);
  if (keyError !== null) return failWith(result, index, keyError);
  const t = env.fees;
  // The relayer prepaid the inner receipt's send fees (burnt now) and its execution (used by it).
  const prepaidSendFees = totalPrepaidSendFees(t, env.body.actions);
  const requiredGas =
    totalPrepaidExecFees(t, d.actions, d.receiverId) +
    totalPrepaidGas(d.actions) +
    t.actionReceipt.exec;
  result.gasUsed += requiredGas + prepaidSendFees;
  result.gasBurnt += prepaidSendFees;
  result.newReceipts.push({
    predecessorId: d.senderId,
    receiverId: d.receiverId,
    receiptId: new Uint8Array(32),
    body: {
      kind: "action",
      signerId: env.body.signerId,
      signerPublicKey: env.body.signerPublicKey,
      gasPrice: env.body.gasPrice,
      outputDataReceivers: [],
      inputDataIds: [],
      actions: d.actions,
    },
  });
  return result;
}

/** The sender's key checks of a delegate action; writes the new nonce. Returns the error kind view. */
function checkDelegateKey(env: ReceiptEnv, d: DelegateAction): ErrorView | null {
  const wrap = (kind: string, fields: Record<string, unknown> | null): ErrorView => ({
    DelegateActionAccessKeyError: variant(kind, fields),
  });
  const storeKey = keys.accessKey(d.senderId, d.publicKey);
  const stored = env.update.read("accessKey", storeKey);
  if (stored === undefined) {
    return wrap("AccessKeyNotFound", {
      account_id: d.senderId,
      public_key: publicKeyToString(d.publicKey),
    });
  }
  const key = stored.accessKey;
  if (d.nonce <= key.nonce) {
    return variant("DelegateActionInvalidNonce", {
      delegate_nonce: u64Json(d.nonce),
      ak_nonce: u64Json(key.nonce),
    });
  }
  const upperBound = env.ctx.blockHeight * ACCESS_KEY_NONCE_RANGE_MULTIPLIER;
  if (d.nonce >= upperBound) {
    return variant("DelegateActionNonceTooLarge", {
      delegate_nonce: u64Json(d.nonce),
      upper_bound: u64Json(upperBound),
    });
  }
  const p = key.permission;
  if (p.kind === "functionCall") {
    const inner = d.actions[0];
    if (d.actions.length !== 1 || inner === undefined || inner.kind !== "functionCall") {
      return wrap("RequiresFullAccess", null);
    }
    if (inner.deposit > 0n) return wrap("DepositWithFunctionCall", null);
    if (d.receiverId !== p.receiverId) {
      return wrap("ReceiverMismatch", { tx_receiver: d.receiverId, ak_receiver: p.receiverId });
    }
    if (p.methodNames.length > 0 && !p.methodNames.includes(inner.methodName)) {
      return wrap("MethodNameMismatch", { method_name: inner.methodName });
    }
  }
  env.update.write("accessKey", storeKey, {
    publicKey: stored.publicKey,
    accessKey: { ...key, nonce: d.nonce },
  });
  return null;
}
