/**
 * Schedules `on_action_done` after an action's receipt, with a fixed gas floor plus all gas left
 * (weight 1). near-sdk-js 2.0's promiseBatchActionFunctionCallWeight passes its arguments as a
 * Uint8Array to a host binding that reads them as a string (so the callee gets "123,34,..."); the
 * binding is called directly here with the JSON string instead.
 */
import type { PromiseIndex } from "near-sdk-js";
import { near } from "near-sdk-js";

declare const env: {
  promise_batch_action_function_call_weight(
    promise: PromiseIndex,
    method: string,
    args: string,
    amount: bigint,
    gas: bigint,
    weight: bigint,
  ): void;
};

export function thenCallback(
  promise: PromiseIndex,
  method: string,
  args: object,
  gas: bigint,
): void {
  const callback = near.promiseBatchThen(promise, near.currentAccountId());
  env.promise_batch_action_function_call_weight(
    callback,
    method,
    JSON.stringify(args),
    0n,
    gas,
    1n,
  );
}
