// The probe: a small contract that exercises the NEAR host API through near-sdk-js, for
// the toolchain's tests and localnet's. Arguments are JSON; amounts are decimal strings.

import { ed25519Verify } from "@gpu-market/toolchain/contract-lib/ed25519.ts";
import { call, encode, NearBindgen, NearPromise, near, view } from "near-sdk-js";

const CALLBACK_GAS = 30_000_000_000_000n;
// Kept out of the class state: near-sdk-js cannot restore a field whose default is null.
const LAST_RESULT_KEY = "last_result";
const U128_MAX = (1n << 128n) - 1n;

type CallResult = { success: boolean; value: string | null };

function fail(message: string): never {
  near.panicUtf8(encode(message));
}

function requireString(value: unknown, name: string): string {
  if (typeof value !== "string") fail(`${name} must be a string`);
  return value;
}

function requireU128(value: unknown, name: string): bigint {
  if (typeof value !== "string" || !/^[0-9]{1,39}$/.test(value))
    fail(`${name} must be a decimal string`);
  const amount = BigInt(value);
  if (amount > U128_MAX) fail(`${name} must be below 2^128`);
  return amount;
}

function requireCount(value: unknown, name: string, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > max) {
    fail(`${name} must be an integer from 0 to ${max}`);
  }
  return value;
}

function hexToBytes(hex: unknown, name: string): Uint8Array {
  if (typeof hex !== "string" || hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex))
    fail(`${name} must be hex`);
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++)
    bytes[i] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return bytes;
}

@NearBindgen({})
export class Probe {
  last_deposit = "0";

  @call({})
  set({ key, value }: { key: string; value: string }): void {
    near.storageWrite(`kv:${requireString(key, "key")}`, requireString(value, "value"));
  }

  @view({})
  get({ key }: { key: string }): string | null {
    return near.storageRead(`kv:${requireString(key, "key")}`);
  }

  @view({})
  add_u128({ a, b }: { a: string; b: string }): string {
    return (requireU128(a, "a") + requireU128(b, "b")).toString();
  }

  @view({})
  panic_with({ message }: { message: string }): void {
    fail(requireString(message, "message"));
  }

  @view({})
  verify_ed25519({
    signature,
    message,
    public_key,
  }: {
    signature: string;
    message: string;
    public_key: string;
  }): boolean {
    return ed25519Verify(
      hexToBytes(signature, "signature"),
      hexToBytes(message, "message"),
      hexToBytes(public_key, "public_key"),
    );
  }

  @call({})
  log_event({ name, data }: { name: string; data: unknown }): void {
    const event = {
      standard: "probe",
      version: "1.0.0",
      event: requireString(name, "name"),
      data: [data],
    };
    near.log(`EVENT_JSON:${JSON.stringify(event)}`);
  }

  @call({ payableFunction: true })
  deposit(): string {
    this.last_deposit = near.attachedDeposit().toString();
    return this.last_deposit;
  }

  @call({})
  transfer_to({ receiver, amount }: { receiver: string; amount: string }): NearPromise {
    return NearPromise.new(requireString(receiver, "receiver")).transfer(
      requireU128(amount, "amount"),
    );
  }

  @call({})
  call_other({
    account,
    method,
    args,
    gas,
    deposit,
    gas_weight,
  }: {
    account: string;
    method: string;
    args: unknown;
    gas: string;
    deposit?: string;
    /** When given, the call also gets this share of the unused gas (function_call_weight). */
    gas_weight?: string;
  }): NearPromise {
    const amount = deposit === undefined ? 0n : requireU128(deposit, "deposit");
    const receiver = NearPromise.new(requireString(account, "account"));
    const name = requireString(method, "method");
    const argsJson = JSON.stringify(args ?? {});
    const other =
      gas_weight === undefined
        ? receiver.functionCall(name, argsJson, amount, requireU128(gas, "gas"))
        : receiver.functionCallWeight(
            name,
            argsJson,
            amount,
            requireU128(gas, "gas"),
            requireU128(gas_weight, "gas_weight"),
          );
    const callback = NearPromise.new(near.currentAccountId()).functionCall(
      "on_result",
      "{}",
      0n,
      CALLBACK_GAS,
    );
    return other.then(callback);
  }

  @call({ privateFunction: true })
  on_result(): CallResult {
    let result: CallResult;
    try {
      result = { success: true, value: near.promiseResult(0) };
    } catch {
      result = { success: false, value: null };
    }
    near.storageWrite(LAST_RESULT_KEY, JSON.stringify(result));
    return result;
  }

  @view({})
  get_last_result(): CallResult | null {
    const stored = near.storageRead(LAST_RESULT_KEY);
    return stored === null ? null : (JSON.parse(stored) as CallResult);
  }

  // Number printing in the engine (exact ties round away from zero, as in JS).
  @view({})
  format_number({ value, digits }: { value: number; digits: number }): {
    fixed: string;
    precision: string;
    exponential: string;
    text: string;
  } {
    if (typeof value !== "number") fail("value must be a number");
    const n = requireCount(digits, "digits", 20);
    return {
      fixed: value.toFixed(n),
      precision: value.toPrecision(Math.max(n, 1)),
      exponential: value.toExponential(n),
      text: String(value),
    };
  }

  @view({})
  block_info(): { height: string; timestamp: string; epoch: string } {
    return {
      height: near.blockHeight().toString(),
      timestamp: near.blockTimestamp().toString(),
      epoch: near.epochHeight().toString(),
    };
  }

  @view({})
  burn_gas({ iterations }: { iterations: number }): string {
    const n = requireCount(iterations, "iterations", 1e9);
    let acc = 0;
    for (let i = 0; i < n; i++) acc = (acc * 31 + i) % 1_000_000_007;
    return acc.toString();
  }

  @call({})
  store_many({ count, size }: { count: number; size: number }): void {
    const n = requireCount(count, "count", 100_000);
    const value = "x".repeat(requireCount(size, "size", 4_194_304));
    for (let i = 0; i < n; i++) near.storageWrite(`many:${i}`, value);
  }

  // NEAR forbids signer/predecessor in RPC view calls: call this as a transaction.
  @view({})
  whoami(): { current: string; predecessor: string; signer: string } {
    return {
      current: near.currentAccountId(),
      predecessor: near.predecessorAccountId(),
      signer: near.signerAccountId(),
    };
  }
}
