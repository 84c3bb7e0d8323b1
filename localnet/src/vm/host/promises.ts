/**
 * Promises and the receipts they build (nearcore's logic.rs promise API and receipt_manager.rs).
 * Send fees are burnt now; execution fees and attached gas are prepaid (used, not burnt).
 * sir ("sender is receiver") compares the receipt's receiver with the current account.
 */
import { isImplicitAccount } from "../account-id.ts";
import { hostErrors } from "../errors.ts";
import { type ActionCost, actionFee, sendFee } from "../gas.ts";
import type { VMLogic } from "../logic.ts";
import type { Action, PublicKey } from "../types.ts";

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

function payGasForNewReceipt(l: VMLogic, sir: boolean, dataDependencies: boolean[]): void {
  const receipt = actionFee(l.config, "new_action_receipt");
  const data = actionFee(l.config, "new_data_receipt_base");
  let burn = sendFee(receipt, sir);
  for (const depSir of dataDependencies) burn += sendFee(data, depSir) + data.execution;
  l.gas.payAction(burn, burn + receipt.execution, "new_action_receipt");
}

function payActionBase(l: VMLogic, cost: ActionCost, sir: boolean): void {
  const fee = actionFee(l.config, cost);
  const burn = sendFee(fee, sir);
  l.gas.payAction(burn, burn + fee.execution, cost);
}

function payActionPerByte(l: VMLogic, cost: ActionCost, bytes: number, sir: boolean): void {
  const fee = actionFee(l.config, cost);
  const burn = sendFee(fee, sir) * bytes;
  l.gas.payAction(burn, burn + fee.execution * bytes, cost);
}

function createReceipt(l: VMLogic, dependencies: number[], receiverId: string): number {
  const inputDataIds: Uint8Array[] = [];
  for (const dep of dependencies) {
    const dataId = l.ext.generateDataId();
    l.receipts[dep]?.outputDataReceivers.push({ dataId, receiverId });
    inputDataIds.push(dataId);
  }
  l.receipts.push({ receiverId, actions: [], inputDataIds, outputDataReceivers: [] });
  return l.receipts.length - 1;
}

function promiseReceipts(l: VMLogic, idx: bigint): number[] {
  const p = idx < BigInt(l.promises.length) ? l.promises[Number(idx)] : undefined;
  if (p === undefined) throw hostErrors.invalidPromiseIndex(idx);
  return p.kind === "receipt" ? [p.receipt] : p.receipts;
}

/** The receipt behind a non-joint promise, and whether it goes to the current account. */
function receiptOf(l: VMLogic, idx: bigint): { index: number; sir: boolean } {
  const p = idx < BigInt(l.promises.length) ? l.promises[Number(idx)] : undefined;
  if (p === undefined) throw hostErrors.invalidPromiseIndex(idx);
  if (p.kind !== "receipt") throw hostErrors.cannotAppendActionToJointPromise();
  const receiver = l.receipts[p.receipt]?.receiverId;
  return { index: p.receipt, sir: receiver === l.context.currentAccountId };
}

function append(l: VMLogic, receipt: number, action: Action): number {
  const actions = l.receipts[receipt]?.actions;
  if (actions === undefined) throw new Error("receipt index out of range");
  actions.push(action);
  return actions.length - 1;
}

/** Borsh PublicKey: key type byte then 32 (ed25519) or 64 (secp256k1) bytes, nothing more. */
function decodePublicKey(raw: Uint8Array): PublicKey | null {
  if (raw.length === 33 && raw[0] === 0) return { keyType: 0, data: raw.slice(1) };
  if (raw.length === 65 && raw[0] === 1) return { keyType: 1, data: raw.slice(1) };
  return null;
}

function publicKeyOrFail(raw: Uint8Array): PublicKey {
  const key = decodePublicKey(raw);
  if (key === null) throw hostErrors.invalidPublicKey();
  return key;
}

function methodName(bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw hostErrors.invalidMethodName();
  }
}

export function promise_batch_create(l: VMLogic, len: bigint, ptr: bigint): bigint {
  l.gas.payBase("base");
  l.prohibitInView("promise_batch_create");
  const accountId = l.readAccountId(ptr, len);
  payGasForNewReceipt(l, accountId === l.context.currentAccountId, []);
  return l.pushPromise({ kind: "receipt", receipt: createReceipt(l, [], accountId) });
}

export function promise_batch_then(l: VMLogic, idx: bigint, len: bigint, ptr: bigint): bigint {
  l.gas.payBase("base");
  l.prohibitInView("promise_batch_then");
  const accountId = l.readAccountId(ptr, len);
  const deps = promiseReceipts(l, idx);
  const depsSir = deps.map((d) => l.receipts[d]?.receiverId === accountId);
  payGasForNewReceipt(l, accountId === l.context.currentAccountId, depsSir);
  return l.pushPromise({ kind: "receipt", receipt: createReceipt(l, deps, accountId) });
}

export function promise_and(l: VMLogic, ptr: bigint, count: bigint): bigint {
  l.gas.payBase("base");
  l.prohibitInView("promise_and");
  l.gas.payBase("promise_and_base");
  const memoryLen = count * 8n;
  if (memoryLen > 0xffffffffffffffffn) throw hostErrors.integerOverflow();
  l.gas.payPer("promise_and_per_promise", memoryLen);
  const raw = l.readMemory(ptr, memoryLen);
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const receipts: number[] = [];
  const limit = l.limits.max_number_input_data_dependencies;
  for (let off = 0; off < raw.length; off += 8) {
    receipts.push(...promiseReceipts(l, view.getBigUint64(off, true)));
    if (receipts.length > limit) {
      throw hostErrors.numberInputDataDependenciesExceeded(receipts.length, limit);
    }
  }
  return l.pushPromise({ kind: "joint", receipts });
}

export function promise_batch_action_create_account(l: VMLogic, idx: bigint): void {
  l.gas.payBase("base");
  l.prohibitInView("promise_batch_action_create_account");
  const r = receiptOf(l, idx);
  payActionBase(l, "create_account", r.sir);
  append(l, r.index, { kind: "createAccount" });
}

export function promise_batch_action_deploy_contract(
  l: VMLogic,
  idx: bigint,
  len: bigint,
  ptr: bigint,
): void {
  l.gas.payBase("base");
  l.prohibitInView("promise_batch_action_deploy_contract");
  const code = l.memoryOrRegister(ptr, len);
  const limit = l.limits.max_contract_size;
  if (code.length > limit) throw hostErrors.contractSizeExceeded(code.length, limit);
  const r = receiptOf(l, idx);
  payActionBase(l, "deploy_contract_base", r.sir);
  payActionPerByte(l, "deploy_contract_byte", code.length, r.sir);
  append(l, r.index, { kind: "deployContract", code });
}

export function promise_batch_action_function_call_weight(
  l: VMLogic,
  idx: bigint,
  methodLen: bigint,
  methodPtr: bigint,
  argsLen: bigint,
  argsPtr: bigint,
  amountPtr: bigint,
  gas: bigint,
  weight: bigint,
): void {
  l.gas.payBase("base");
  l.prohibitInView("promise_batch_action_function_call");
  const amount = l.readU128(amountPtr);
  const method = l.memoryOrRegister(methodPtr, methodLen);
  if (method.length === 0) throw hostErrors.emptyMethodName();
  const args = l.memoryOrRegister(argsPtr, argsLen);
  const r = receiptOf(l, idx);
  payActionBase(l, "function_call_base", r.sir);
  payActionPerByte(l, "function_call_byte", method.length + args.length, r.sir);
  l.gas.prepay(Number(gas));
  l.deductBalance(amount);
  const action = append(l, r.index, {
    kind: "functionCall",
    methodName: methodName(method),
    args,
    gas,
    deposit: amount,
    gasWeight: weight,
  });
  if (weight > 0n) l.gasWeights.push([r.index, action, weight]);
}

export function promise_batch_action_function_call(
  l: VMLogic,
  idx: bigint,
  methodLen: bigint,
  methodPtr: bigint,
  argsLen: bigint,
  argsPtr: bigint,
  amountPtr: bigint,
  gas: bigint,
): void {
  promise_batch_action_function_call_weight(
    l,
    idx,
    methodLen,
    methodPtr,
    argsLen,
    argsPtr,
    amountPtr,
    gas,
    0n,
  );
}

export function promise_create(
  l: VMLogic,
  accountLen: bigint,
  accountPtr: bigint,
  methodLen: bigint,
  methodPtr: bigint,
  argsLen: bigint,
  argsPtr: bigint,
  amountPtr: bigint,
  gas: bigint,
): bigint {
  const idx = promise_batch_create(l, accountLen, accountPtr);
  promise_batch_action_function_call(
    l,
    idx,
    methodLen,
    methodPtr,
    argsLen,
    argsPtr,
    amountPtr,
    gas,
  );
  return idx;
}

export function promise_then(
  l: VMLogic,
  promiseIdx: bigint,
  accountLen: bigint,
  accountPtr: bigint,
  methodLen: bigint,
  methodPtr: bigint,
  argsLen: bigint,
  argsPtr: bigint,
  amountPtr: bigint,
  gas: bigint,
): bigint {
  const idx = promise_batch_then(l, promiseIdx, accountLen, accountPtr);
  promise_batch_action_function_call(
    l,
    idx,
    methodLen,
    methodPtr,
    argsLen,
    argsPtr,
    amountPtr,
    gas,
  );
  return idx;
}

export function promise_batch_action_transfer(l: VMLogic, idx: bigint, amountPtr: bigint): void {
  l.gas.payBase("base");
  l.prohibitInView("promise_batch_action_transfer");
  const amount = l.readU128(amountPtr);
  const r = receiptOf(l, idx);
  const fees = ["transfer"] as ActionCost[];
  // A transfer to an implicit account also creates it (implicit_account_creation).
  if (
    l.config.wasm_config.implicit_account_creation &&
    isImplicitAccount(l.receipts[r.index]?.receiverId ?? "")
  ) {
    fees.push("create_account", "add_full_access_key");
  }
  let burn = 0;
  let exec = 0;
  for (const cost of fees) {
    const fee = actionFee(l.config, cost);
    burn += sendFee(fee, r.sir);
    exec += fee.execution;
  }
  l.gas.payAction(burn, burn + exec, "transfer");
  l.deductBalance(amount);
  append(l, r.index, { kind: "transfer", deposit: amount });
}

export function promise_batch_action_stake(
  l: VMLogic,
  idx: bigint,
  amountPtr: bigint,
  keyLen: bigint,
  keyPtr: bigint,
): void {
  l.gas.payBase("base");
  l.prohibitInView("promise_batch_action_stake");
  const amount = l.readU128(amountPtr);
  const rawKey = l.memoryOrRegister(keyPtr, keyLen);
  const r = receiptOf(l, idx);
  payActionBase(l, "stake", r.sir);
  append(l, r.index, { kind: "stake", stake: amount, publicKey: publicKeyOrFail(rawKey) });
}

export function promise_batch_action_add_key_with_full_access(
  l: VMLogic,
  idx: bigint,
  keyLen: bigint,
  keyPtr: bigint,
  nonce: bigint,
): void {
  l.gas.payBase("base");
  l.prohibitInView("promise_batch_action_add_key_with_full_access");
  const rawKey = l.memoryOrRegister(keyPtr, keyLen);
  const r = receiptOf(l, idx);
  payActionBase(l, "add_full_access_key", r.sir);
  append(l, r.index, {
    kind: "addKey",
    publicKey: publicKeyOrFail(rawKey),
    nonce,
    permission: { kind: "fullAccess" },
  });
}

export function promise_batch_action_add_key_with_function_call(
  l: VMLogic,
  idx: bigint,
  keyLen: bigint,
  keyPtr: bigint,
  nonce: bigint,
  allowancePtr: bigint,
  receiverLen: bigint,
  receiverPtr: bigint,
  namesLen: bigint,
  namesPtr: bigint,
): void {
  l.gas.payBase("base");
  l.prohibitInView("promise_batch_action_add_key_with_function_call");
  const rawKey = l.memoryOrRegister(keyPtr, keyLen);
  const allowance = l.readU128(allowancePtr);
  const receiverId = l.readAccountId(receiverPtr, receiverLen);
  const rawNames = l.memoryOrRegister(namesPtr, namesLen);
  const names: Uint8Array[] = [];
  if (rawNames.length > 0) {
    let start = 0;
    for (let i = 0; i <= rawNames.length; i++) {
      if (i === rawNames.length || rawNames[i] === 0x2c) {
        if (i === start) throw hostErrors.emptyMethodName();
        names.push(rawNames.subarray(start, i));
        start = i + 1;
      }
    }
  }
  const r = receiptOf(l, idx);
  // +1 per name for its terminating character, as nearcore counts.
  const bytes = names.reduce((sum, n) => sum + n.length + 1, 0);
  payActionBase(l, "add_function_call_key_base", r.sir);
  payActionPerByte(l, "add_function_call_key_byte", bytes, r.sir);
  const publicKey = publicKeyOrFail(rawKey);
  append(l, r.index, {
    kind: "addKey",
    publicKey,
    nonce,
    permission: {
      kind: "functionCall",
      allowance: allowance > 0n ? allowance : null,
      receiverId,
      methodNames: names.map(methodName),
    },
  });
}

export function promise_batch_action_delete_key(
  l: VMLogic,
  idx: bigint,
  keyLen: bigint,
  keyPtr: bigint,
): void {
  l.gas.payBase("base");
  l.prohibitInView("promise_batch_action_delete_key");
  const rawKey = l.memoryOrRegister(keyPtr, keyLen);
  const r = receiptOf(l, idx);
  payActionBase(l, "delete_key", r.sir);
  append(l, r.index, { kind: "deleteKey", publicKey: publicKeyOrFail(rawKey) });
}

export function promise_batch_action_delete_account(
  l: VMLogic,
  idx: bigint,
  len: bigint,
  ptr: bigint,
): void {
  l.gas.payBase("base");
  l.prohibitInView("promise_batch_action_delete_account");
  const beneficiaryId = l.readAccountId(ptr, len);
  const r = receiptOf(l, idx);
  payActionBase(l, "delete_account", r.sir);
  append(l, r.index, { kind: "deleteAccount", beneficiaryId });
}

export function promise_results_count(l: VMLogic): bigint {
  l.gas.payBase("base");
  l.prohibitInView("promise_results_count");
  return BigInt(l.context.promiseResults.length);
}

export function promise_result(l: VMLogic, idx: bigint, reg: bigint): bigint {
  l.gas.payBase("base");
  l.prohibitInView("promise_result");
  const result =
    idx < BigInt(l.context.promiseResults.length)
      ? l.context.promiseResults[Number(idx)]
      : undefined;
  if (result === undefined) throw hostErrors.invalidPromiseResultIndex(idx);
  if (result.kind === "notReady") return 0n;
  if (result.kind === "failed") return 2n;
  l.setRegister(reg, result.data.slice());
  return 1n;
}

export function promise_return(l: VMLogic, idx: bigint): void {
  l.gas.payBase("base");
  l.gas.payBase("promise_return");
  l.prohibitInView("promise_return");
  const p = idx < BigInt(l.promises.length) ? l.promises[Number(idx)] : undefined;
  if (p === undefined) throw hostErrors.invalidPromiseIndex(idx);
  if (p.kind !== "receipt") throw hostErrors.cannotReturnJointPromise();
  l.returnData = { kind: "receiptIndex", index: p.receipt };
}

/** Yield/resume needs chain support (timeouts, resumption) that localnet does not have. */
export function promise_yield_create(l: VMLogic): bigint {
  l.gas.payBase("base");
  l.prohibitInView("promise_yield_create");
  throw hostErrors.unsupported("promise_yield_create");
}

export function promise_yield_resume(l: VMLogic): number {
  l.gas.payBase("base");
  l.prohibitInView("promise_submit_data");
  throw hostErrors.unsupported("promise_yield_resume");
}
