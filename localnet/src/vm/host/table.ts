/**
 * Every host function a contract may import from `env` at protocol 77, with its wasm signature.
 * A contract importing anything else, or with another signature, fails to link as in nearcore.
 */
import type { VMLogic } from "../logic.ts";
import type { ValType } from "../wasm/opcodes.ts";
import * as bn from "./alt-bn128.ts";
import * as bls from "./bls12381.ts";
import * as ctx from "./context.ts";
import * as crypto from "./crypto.ts";
import * as promises from "./promises.ts";
import * as storage from "./storage.ts";

// biome-ignore lint/suspicious/noExplicitAny: host functions take their own argument lists.
type HostFn = (l: VMLogic, ...args: any[]) => unknown;

export interface HostFunction {
  params: ValType[];
  results: ValType[];
  fn: HostFn;
}

const i64s = (n: number): ValType[] => new Array<ValType>(n).fill("i64");

function host(params: number, result: ValType | null, fn: HostFn): HostFunction {
  return { params: i64s(params), results: result === null ? [] : [result], fn };
}

export const HOST_FUNCTIONS: Record<string, HostFunction> = {
  read_register: host(2, null, ctx.read_register),
  register_len: host(1, "i64", ctx.register_len),
  write_register: host(3, null, ctx.write_register),
  current_account_id: host(1, null, ctx.current_account_id),
  signer_account_id: host(1, null, ctx.signer_account_id),
  signer_account_pk: host(1, null, ctx.signer_account_pk),
  predecessor_account_id: host(1, null, ctx.predecessor_account_id),
  input: host(1, null, ctx.input),
  block_index: host(0, "i64", ctx.block_index),
  block_timestamp: host(0, "i64", ctx.block_timestamp),
  epoch_height: host(0, "i64", ctx.epoch_height),
  storage_usage: host(0, "i64", ctx.storage_usage),
  account_balance: host(1, null, ctx.account_balance),
  account_locked_balance: host(1, null, ctx.account_locked_balance),
  attached_deposit: host(1, null, ctx.attached_deposit),
  prepaid_gas: host(0, "i64", ctx.prepaid_gas),
  used_gas: host(0, "i64", ctx.used_gas),
  random_seed: host(1, null, ctx.random_seed),
  sha256: host(3, null, crypto.sha256),
  keccak256: host(3, null, crypto.keccak256),
  keccak512: host(3, null, crypto.keccak512),
  ed25519_verify: host(6, "i64", crypto.ed25519_verify),
  ripemd160: host(3, null, crypto.ripemd160),
  ecrecover: host(7, "i64", crypto.ecrecover),
  value_return: host(2, null, ctx.value_return),
  panic: host(0, null, ctx.panic),
  panic_utf8: host(2, null, ctx.panic_utf8),
  log_utf8: host(2, null, ctx.log_utf8),
  log_utf16: host(2, null, ctx.log_utf16),
  abort: { params: ["i32", "i32", "i32", "i32"], results: [], fn: ctx.abort },
  promise_create: host(8, "i64", promises.promise_create),
  promise_then: host(9, "i64", promises.promise_then),
  promise_and: host(2, "i64", promises.promise_and),
  promise_batch_create: host(2, "i64", promises.promise_batch_create),
  promise_batch_then: host(3, "i64", promises.promise_batch_then),
  promise_batch_action_create_account: host(1, null, promises.promise_batch_action_create_account),
  promise_batch_action_deploy_contract: host(
    3,
    null,
    promises.promise_batch_action_deploy_contract,
  ),
  promise_batch_action_function_call: host(7, null, promises.promise_batch_action_function_call),
  promise_batch_action_function_call_weight: host(
    8,
    null,
    promises.promise_batch_action_function_call_weight,
  ),
  promise_batch_action_transfer: host(2, null, promises.promise_batch_action_transfer),
  promise_batch_action_stake: host(4, null, promises.promise_batch_action_stake),
  promise_batch_action_add_key_with_full_access: host(
    4,
    null,
    promises.promise_batch_action_add_key_with_full_access,
  ),
  promise_batch_action_add_key_with_function_call: host(
    9,
    null,
    promises.promise_batch_action_add_key_with_function_call,
  ),
  promise_batch_action_delete_key: host(3, null, promises.promise_batch_action_delete_key),
  promise_batch_action_delete_account: host(3, null, promises.promise_batch_action_delete_account),
  promise_yield_create: host(7, "i64", promises.promise_yield_create),
  promise_yield_resume: { params: i64s(4), results: ["i32"], fn: promises.promise_yield_resume },
  promise_results_count: host(0, "i64", promises.promise_results_count),
  promise_result: host(2, "i64", promises.promise_result),
  promise_return: host(1, null, promises.promise_return),
  storage_write: host(5, "i64", storage.storage_write),
  storage_read: host(3, "i64", storage.storage_read),
  storage_remove: host(3, "i64", storage.storage_remove),
  storage_has_key: host(2, "i64", storage.storage_has_key),
  storage_iter_prefix: host(2, "i64", storage.storage_iter_prefix),
  storage_iter_range: host(4, "i64", storage.storage_iter_range),
  storage_iter_next: host(3, "i64", storage.storage_iter_next),
  gas: { params: ["i32"], results: [], fn: ctx.gas },
  validator_stake: host(3, null, ctx.validator_stake),
  validator_total_stake: host(1, null, ctx.validator_total_stake),
  alt_bn128_g1_multiexp: host(3, null, bn.alt_bn128_g1_multiexp),
  alt_bn128_g1_sum: host(3, null, bn.alt_bn128_g1_sum),
  alt_bn128_pairing_check: host(2, "i64", bn.alt_bn128_pairing_check),
  bls12381_p1_sum: host(3, "i64", bls.bls12381_p1_sum),
  bls12381_p2_sum: host(3, "i64", bls.bls12381_p2_sum),
  bls12381_g1_multiexp: host(3, "i64", bls.bls12381_g1_multiexp),
  bls12381_g2_multiexp: host(3, "i64", bls.bls12381_g2_multiexp),
  bls12381_map_fp_to_g1: host(3, "i64", bls.bls12381_map_fp_to_g1),
  bls12381_map_fp2_to_g2: host(3, "i64", bls.bls12381_map_fp2_to_g2),
  bls12381_pairing_check: host(2, "i64", bls.bls12381_pairing_check),
  bls12381_p1_decompress: host(3, "i64", bls.bls12381_p1_decompress),
  bls12381_p2_decompress: host(3, "i64", bls.bls12381_p2_decompress),
  sandbox_debug_log: host(2, null, ctx.sandbox_debug_log),
};
