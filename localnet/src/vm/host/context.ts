/** Registers, context, economics, logs, panics and the return value (nearcore's logic.rs). */
import { hostErrors } from "../errors.ts";
import { actionFee, sendFee } from "../gas.ts";
import { U64_MAX, utf8Length, type VMLogic } from "../logic.ts";

const utf8 = new TextEncoder();

export function read_register(l: VMLogic, id: bigint, ptr: bigint): void {
  l.gas.payBase("base");
  const data = l.registers.get(l.gas, id);
  l.writeMemory(ptr, data);
}

export function register_len(l: VMLogic, id: bigint): bigint {
  l.gas.payBase("base");
  const len = l.registers.length(id);
  return len === undefined ? U64_MAX : BigInt(len);
}

export function write_register(l: VMLogic, id: bigint, len: bigint, ptr: bigint): void {
  l.gas.payBase("base");
  const data = l.readMemory(ptr, len);
  l.setRegister(id, data);
}

export function current_account_id(l: VMLogic, reg: bigint): void {
  l.gas.payBase("base");
  l.setRegister(reg, utf8.encode(l.context.currentAccountId));
}

export function signer_account_id(l: VMLogic, reg: bigint): void {
  l.gas.payBase("base");
  l.prohibitInView("signer_account_id");
  l.setRegister(reg, utf8.encode(l.context.signerAccountId));
}

export function signer_account_pk(l: VMLogic, reg: bigint): void {
  l.gas.payBase("base");
  l.prohibitInView("signer_account_pk");
  l.setRegister(reg, l.context.signerAccountPk.slice());
}

export function predecessor_account_id(l: VMLogic, reg: bigint): void {
  l.gas.payBase("base");
  l.prohibitInView("predecessor_account_id");
  l.setRegister(reg, utf8.encode(l.context.predecessorAccountId));
}

export function input(l: VMLogic, reg: bigint): void {
  l.gas.payBase("base");
  l.setRegister(reg, l.context.input.slice());
}

export function block_index(l: VMLogic): bigint {
  l.gas.payBase("base");
  return l.context.blockHeight;
}

export function block_timestamp(l: VMLogic): bigint {
  l.gas.payBase("base");
  return l.context.blockTimestamp;
}

export function epoch_height(l: VMLogic): bigint {
  l.gas.payBase("base");
  return l.context.epochHeight;
}

export function storage_usage(l: VMLogic): bigint {
  l.gas.payBase("base");
  return l.storageUsage;
}

export function account_balance(l: VMLogic, ptr: bigint): void {
  l.gas.payBase("base");
  l.writeU128(ptr, l.balance);
}

export function account_locked_balance(l: VMLogic, ptr: bigint): void {
  l.gas.payBase("base");
  l.writeU128(ptr, l.context.accountLockedBalance);
}

export function attached_deposit(l: VMLogic, ptr: bigint): void {
  l.gas.payBase("base");
  l.writeU128(ptr, l.context.attachedDeposit);
}

export function prepaid_gas(l: VMLogic): bigint {
  l.gas.payBase("base");
  l.prohibitInView("prepaid_gas");
  return l.context.prepaidGas;
}

export function used_gas(l: VMLogic): bigint {
  l.gas.payBase("base");
  l.prohibitInView("used_gas");
  return BigInt(l.gas.used());
}

export function random_seed(l: VMLogic, reg: bigint): void {
  l.gas.payBase("base");
  l.setRegister(reg, l.context.randomSeed.slice());
}

export function validator_stake(l: VMLogic, len: bigint, ptr: bigint, stakePtr: bigint): void {
  l.gas.payBase("base");
  const accountId = l.readAccountId(ptr, len);
  l.gas.payBase("validator_stake_base");
  l.writeU128(stakePtr, l.ext.validatorStake(accountId) ?? 0n);
}

export function validator_total_stake(l: VMLogic, stakePtr: bigint): void {
  l.gas.payBase("base");
  l.gas.payBase("validator_total_stake_base");
  l.writeU128(stakePtr, l.ext.validatorTotalStake());
}

export function value_return(l: VMLogic, len: bigint, ptr: bigint): void {
  l.gas.payBase("base");
  const value = l.memoryOrRegister(ptr, len);
  const limit = l.limits.max_length_returned_data;
  if (value.length > limit) throw hostErrors.returnedValueLengthExceeded(value.length, limit);
  // Data receipts carrying this value are paid now, send and execution both burnt.
  const fee = actionFee(l.config, "new_data_receipt_byte");
  let burn = 0;
  for (const receiver of l.context.outputDataReceivers) {
    const sir = receiver === l.context.currentAccountId;
    burn += (sendFee(fee, sir) + fee.execution) * value.length;
  }
  l.gas.payAction(burn, burn, "new_data_receipt_byte");
  l.returnData = { kind: "value", data: value };
}

export function panic(l: VMLogic): void {
  l.gas.payBase("base");
  throw hostErrors.guestPanic("explicit guest panic");
}

export function panic_utf8(l: VMLogic, len: bigint, ptr: bigint): void {
  l.gas.payBase("base");
  throw hostErrors.guestPanic(l.readUtf8(len, ptr));
}

export function log_utf8(l: VMLogic, len: bigint, ptr: bigint): void {
  l.gas.payBase("base");
  l.checkCanAddLog();
  const message = l.readUtf8(len, ptr);
  const bytes = utf8Length(message);
  l.gas.payBase("log_base");
  l.gas.payPer("log_byte", bytes);
  l.pushLog(message, bytes);
}

export function log_utf16(l: VMLogic, len: bigint, ptr: bigint): void {
  l.gas.payBase("base");
  l.checkCanAddLog();
  const message = l.readUtf16(len, ptr);
  const bytes = utf8Length(message);
  l.gas.payBase("log_base");
  l.gas.payPer("log_byte", bytes);
  l.pushLog(message, bytes);
}

function readU32(l: VMLogic, ptr: bigint): bigint {
  const b = l.readMemory(ptr, 4n);
  return BigInt(
    ((b[0] as number) |
      ((b[1] as number) << 8) |
      ((b[2] as number) << 16) |
      ((b[3] as number) << 24)) >>>
      0,
  );
}

/** AssemblyScript's abort: logs and panics with the UTF-16 message and file name. */
export function abort(
  l: VMLogic,
  msgPtr: number,
  filePtr: number,
  line: number,
  col: number,
): void {
  l.gas.payBase("base");
  if (msgPtr < 4 || filePtr < 4) throw hostErrors.badUtf16();
  l.checkCanAddLog();
  const msgLen = readU32(l, BigInt(msgPtr - 4));
  const fileLen = readU32(l, BigInt(filePtr - 4));
  const msg = l.readUtf16(msgLen, BigInt(msgPtr));
  const file = l.readUtf16(fileLen, BigInt(filePtr));
  const message = `${msg}, filename: "${file}" line: ${line} col: ${col}`;
  l.gas.payBase("log_base");
  l.gas.payPer("log_byte", utf8Length(message));
  const logged = `ABORT: ${message}`;
  l.pushLog(logged, utf8Length(logged));
  throw hostErrors.guestPanic(message);
}

/** The legacy `env.gas` import: charges opcodes * regular_op_cost as wasm execution. */
export function gas(l: VMLogic, opcodes: number): void {
  l.gas.burn(opcodes * l.config.wasm_config.regular_op_cost);
}

/** Sandbox-only debug log: free, not recorded in the outcome. */
export function sandbox_debug_log(l: VMLogic, len: bigint, ptr: bigint): void {
  l.viewForFree(ptr, len);
}
