/**
 * Gas fees of actions and transactions (nearcore runtime/src/config.rs): send fees burnt when a
 * receipt is created, execution fees prepaid and burnt when it runs, and the transaction cost
 * with the pessimistic gas price for receipts that run in later blocks.
 */
import type { Fee, RuntimeConfig } from "../config/runtime-config.ts";
import { isEthImplicit, isNearImplicit } from "./account-id.ts";
import type { Action, Transaction } from "./types.ts";

interface FeeN {
  sendSir: bigint;
  sendNotSir: bigint;
  exec: bigint;
}

export interface FeeTable {
  actionReceipt: FeeN;
  createAccount: FeeN;
  deployContract: FeeN;
  deployContractPerByte: FeeN;
  functionCall: FeeN;
  functionCallPerByte: FeeN;
  transfer: FeeN;
  stake: FeeN;
  addFullAccessKey: FeeN;
  addFunctionCallKey: FeeN;
  addFunctionCallKeyPerByte: FeeN;
  deleteKey: FeeN;
  deleteAccount: FeeN;
  delegate: FeeN;
  implicitAccountCreation: boolean;
  ethImplicitAccounts: boolean;
  inflation: [bigint, bigint];
  /** Cheapest receipt carrying a function call: bounds how deep a transaction's receipts can go. */
  minReceiptWithFunctionCallGas: bigint;
}

const tables = new WeakMap<RuntimeConfig, FeeTable>();

function feeN(f: Fee): FeeN {
  return {
    sendSir: BigInt(f.send_sir),
    sendNotSir: BigInt(f.send_not_sir),
    exec: BigInt(f.execution),
  };
}

const send = (f: FeeN, sir: boolean): bigint => (sir ? f.sendSir : f.sendNotSir);
function minSendAndExec(f: FeeN): bigint {
  if (f.sendSir < f.sendNotSir) return f.sendSir + f.exec;
  return f.sendNotSir + f.exec;
}

export function feeTable(config: RuntimeConfig): FeeTable {
  let t = tables.get(config);
  if (t !== undefined) return t;
  const tc = config.transaction_costs;
  const a = tc.action_creation_config;
  const actionReceipt = feeN(tc.action_receipt_creation_config);
  const functionCall = feeN(a.function_call_cost);
  t = {
    actionReceipt,
    createAccount: feeN(a.create_account_cost),
    deployContract: feeN(a.deploy_contract_cost),
    deployContractPerByte: feeN(a.deploy_contract_cost_per_byte),
    functionCall,
    functionCallPerByte: feeN(a.function_call_cost_per_byte),
    transfer: feeN(a.transfer_cost),
    stake: feeN(a.stake_cost),
    addFullAccessKey: feeN(a.add_key_cost.full_access_cost),
    addFunctionCallKey: feeN(a.add_key_cost.function_call_cost),
    addFunctionCallKeyPerByte: feeN(a.add_key_cost.function_call_cost_per_byte),
    deleteKey: feeN(a.delete_key_cost),
    deleteAccount: feeN(a.delete_account_cost),
    delegate: feeN(a.delegate_cost),
    implicitAccountCreation: config.wasm_config.implicit_account_creation,
    ethImplicitAccounts: config.wasm_config.eth_implicit_accounts,
    inflation: [
      BigInt(tc.pessimistic_gas_price_inflation_ratio[0]),
      BigInt(tc.pessimistic_gas_price_inflation_ratio[1]),
    ],
    minReceiptWithFunctionCallGas: minSendAndExec(actionReceipt) + minSendAndExec(functionCall),
  };
  tables.set(config, t);
  return t;
}

/** Method names of a function-call key, each counted with a terminating byte. */
function methodNamesBytes(names: string[]): bigint {
  let n = 0;
  for (const name of names) n += Buffer.byteLength(name) + 1;
  return BigInt(n);
}

/** Extra fees of a transfer that creates an implicit account (charged whether or not it exists). */
function transferFee(t: FeeTable, receiverId: string, pick: (f: FeeN) => bigint): bigint {
  let fee = pick(t.transfer);
  if (!t.implicitAccountCreation) return fee;
  if (isNearImplicit(receiverId)) fee += pick(t.createAccount) + pick(t.addFullAccessKey);
  else if (t.ethImplicitAccounts && isEthImplicit(receiverId)) fee += pick(t.createAccount);
  return fee;
}

function actionFee(
  t: FeeTable,
  action: Action,
  receiverId: string,
  pick: (f: FeeN) => bigint,
): bigint {
  switch (action.kind) {
    case "createAccount":
      return pick(t.createAccount);
    case "deployContract":
      return pick(t.deployContract) + pick(t.deployContractPerByte) * BigInt(action.code.length);
    case "functionCall": {
      const bytes = BigInt(Buffer.byteLength(action.methodName) + action.args.length);
      return pick(t.functionCall) + pick(t.functionCallPerByte) * bytes;
    }
    case "transfer":
      return transferFee(t, receiverId, pick);
    case "stake":
      return pick(t.stake);
    case "addKey":
      if (action.permission.kind === "fullAccess") return pick(t.addFullAccessKey);
      return (
        pick(t.addFunctionCallKey) +
        pick(t.addFunctionCallKeyPerByte) * methodNamesBytes(action.permission.methodNames)
      );
    case "deleteKey":
      return pick(t.deleteKey);
    case "deleteAccount":
      return pick(t.deleteAccount);
    case "delegate":
      return pick(t.delegate);
  }
}

export function execFee(t: FeeTable, action: Action, receiverId: string): bigint {
  return actionFee(t, action, receiverId, (f) => f.exec);
}

/** Gas burnt when sending these actions (a delegate action's inner actions are prepaid instead). */
export function totalSendFees(
  t: FeeTable,
  sir: boolean,
  actions: Action[],
  receiverId: string,
): bigint {
  let total = 0n;
  for (const a of actions) total += actionFee(t, a, receiverId, (f) => send(f, sir));
  return total;
}

/** Send fees of the receipts that delegate actions will create, prepaid by the relayer. */
export function totalPrepaidSendFees(t: FeeTable, actions: Action[]): bigint {
  let total = 0n;
  for (const a of actions) {
    if (a.kind !== "delegate") continue;
    const d = a.delegateAction;
    total += totalSendFees(t, d.senderId === d.receiverId, d.actions, d.receiverId);
  }
  return total;
}

/** Execution fees of the actions, including those of receipts created by delegate actions. */
export function totalPrepaidExecFees(t: FeeTable, actions: Action[], receiverId: string): bigint {
  let total = 0n;
  for (const a of actions) {
    total += execFee(t, a, receiverId);
    if (a.kind === "delegate") {
      const d = a.delegateAction;
      total += totalPrepaidExecFees(t, d.actions, d.receiverId) + t.actionReceipt.exec;
    }
  }
  return total;
}

export function totalPrepaidGas(actions: Action[]): bigint {
  let total = 0n;
  for (const a of actions) {
    if (a.kind === "functionCall") total += a.gas;
    else if (a.kind === "delegate") total += totalPrepaidGas(a.delegateAction.actions);
  }
  return total;
}

export function totalDeposit(actions: Action[]): bigint {
  let total = 0n;
  for (const a of actions) {
    if (a.kind === "transfer" || a.kind === "functionCall") total += a.deposit;
    else if (a.kind === "delegate") total += totalDeposit(a.delegateAction.actions);
  }
  return total;
}

/** gasPrice * (num/den)^exponent, rounded up (nearcore's safe_gas_price_inflated). */
export function inflatedGasPrice(
  gasPrice: bigint,
  ratio: [bigint, bigint],
  exponent: bigint,
): bigint {
  const e = exponent > 255n ? 255n : exponent;
  const num = ratio[0] ** e;
  const den = ratio[1] ** e;
  return (num * gasPrice + den - 1n) / den;
}

export interface TransactionCost {
  gasBurnt: bigint;
  gasRemaining: bigint;
  receiptGasPrice: bigint;
  totalCost: bigint;
  burntAmount: bigint;
}

const U64_MAX = 2n ** 64n - 1n;
const U128_MAX = 2n ** 128n - 1n;

/** Cost of a transaction; null when a gas sum overflows u64 or a balance u128 (CostOverflow). */
export function transactionCost(
  t: FeeTable,
  tx: Transaction,
  gasPrice: bigint,
): TransactionCost | null {
  const sir = tx.signerId === tx.receiverId;
  const gasBurnt = send(t.actionReceipt, sir) + totalSendFees(t, sir, tx.actions, tx.receiverId);
  const prepaidGas = totalPrepaidGas(tx.actions) + totalPrepaidSendFees(t, tx.actions);
  // A receipt to another account runs a block later; each further hop may raise the price again.
  let receiptGasPrice = 0n;
  if (gasPrice !== 0n) {
    const depth =
      t.minReceiptWithFunctionCallGas > 0n ? prepaidGas / t.minReceiptWithFunctionCallGas : 0n;
    receiptGasPrice = inflatedGasPrice(gasPrice, t.inflation, (sir ? 0n : 1n) + depth);
  }
  const gasRemaining =
    prepaidGas + t.actionReceipt.exec + totalPrepaidExecFees(t, tx.actions, tx.receiverId);
  if (gasBurnt > U64_MAX || gasRemaining > U64_MAX || prepaidGas > U64_MAX) return null;
  const burntAmount = gasBurnt * gasPrice;
  const totalCost = burntAmount + gasRemaining * receiptGasPrice + totalDeposit(tx.actions);
  if (totalCost > U128_MAX) return null;
  return { gasBurnt, gasRemaining, receiptGasPrice, totalCost, burntAmount };
}
