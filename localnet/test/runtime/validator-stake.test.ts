/**
 * validator_stake and validator_total_stake inside a transaction see the epoch's validators that
 * the node hands the runtime (ApplyContext.validators), as view calls do.
 */
import { describe, expect, it } from "vitest";
import { runFunctionCall } from "../../src/vm/index.ts";
import { wat } from "../vm/helpers.ts";
import { accountRecord, makeKey, NEAR, signTx, TestChain, TGAS } from "./helpers.ts";

// Returns validator_stake(input account) || validator_total_stake, two u128 LE.
const STAKES = wat(`(module
  (import "env" "input" (func $input (param i64)))
  (import "env" "validator_stake" (func $stake (param i64 i64 i64)))
  (import "env" "validator_total_stake" (func $total (param i64)))
  (import "env" "value_return" (func $ret (param i64 i64)))
  (memory 1)
  (func (export "stakes")
    (call $input (i64.const 0))
    (call $stake (i64.const -1) (i64.const 0) (i64.const 0))
    (call $total (i64.const 16))
    (call $ret (i64.const 32) (i64.const 0))))`);

const u128le = (bytes: Uint8Array, offset: number): bigint => {
  let v = 0n;
  for (let i = 15; i >= 0; i--) v = (v << 8n) | BigInt(bytes[offset + i] as number);
  return v;
};

describe("validator stakes inside transactions", () => {
  const alice = makeKey();
  const chain = new TestChain(runFunctionCall, [
    ...accountRecord("alice.near", 100n * NEAR, alice),
    ...accountRecord("stakes.near", 10n * NEAR, null),
    { Contract: { account_id: "stakes.near", code: Buffer.from(STAKES).toString("base64") } },
  ]);
  const validators = new Map([
    ["test.near", 50_000_000n * NEAR],
    ["other.near", 7n * NEAR],
  ]);
  let nonce = 1n;
  const stakesOf = (account: string): [bigint, bigint] => {
    const tx = signTx(alice, {
      signerId: "alice.near",
      receiverId: "stakes.near",
      nonce: nonce++,
      actions: [
        {
          kind: "functionCall",
          methodName: "stakes",
          args: new TextEncoder().encode(account),
          gas: 10n * TGAS,
          deposit: 0n,
          gasWeight: 0n,
        },
      ],
    });
    chain.block([tx], { validators });
    chain.block([], { validators });
    const outcome = chain.trace(tx)[1];
    if (outcome?.status.kind !== "successValue") throw new Error(JSON.stringify(outcome?.status));
    return [u128le(outcome.status.value, 0), u128le(outcome.status.value, 16)];
  };

  it("a validator's stake and the total stake", () => {
    expect(stakesOf("test.near")).toEqual([50_000_000n * NEAR, 50_000_007n * NEAR]);
    expect(stakesOf("other.near")).toEqual([7n * NEAR, 50_000_007n * NEAR]);
  });

  it("an account that is not a validator has stake 0", () => {
    expect(stakesOf("alice.near")).toEqual([0n, 50_000_007n * NEAR]);
  });
});
