import { describe, expect, it } from "vitest";
import { applyChunk } from "../../src/runtime/apply.ts";
import { delegateActionHash } from "../../src/runtime/transaction-codec.ts";
import type { Action, DelegateAction, Receipt } from "../../src/runtime/types.ts";
import { CALL_BURN, fakeContract, TGAS } from "./fake-contract.ts";
import { accountRecord, context, GAS_PRICE, makeKey, NEAR, signTx, TestChain } from "./helpers.ts";

const alice = makeKey();
const contractKey = makeKey();
const code = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]);

function chain() {
  const c = new TestChain(fakeContract, [
    ...accountRecord("alice.near", 100n * NEAR, alice),
    ...accountRecord("app.near", 50n * NEAR, contractKey),
    ...accountRecord("other.near", 50n * NEAR, contractKey),
    { Contract: { account_id: "app.near", code: Buffer.from(code).toString("base64") } },
    { Contract: { account_id: "other.near", code: Buffer.from(code).toString("base64") } },
  ]);
  c.store.applyRecords([
    {
      Data: {
        account_id: "other.near",
        data_key: Buffer.from("x").toString("base64"),
        value: Buffer.from("42").toString("base64"),
      },
    },
  ]);
  return c;
}

let nonce = 1000n;
const call = (receiverId: string, methodName: string, args = "", deposit = 0n, gas = 100n * TGAS) =>
  signTx(alice, {
    signerId: "alice.near",
    receiverId,
    nonce: nonce++,
    actions: [
      {
        kind: "functionCall",
        methodName,
        args: new TextEncoder().encode(args),
        gas,
        deposit,
        gasWeight: 0n,
      },
    ],
  });

const text = (v: Uint8Array) => new TextDecoder().decode(v);

describe("function calls", () => {
  it("runs the VM, stores data, pays the contract 30% of the burnt gas and refunds unused gas", () => {
    const c = chain();
    const appBefore = c.balance("app.near");
    const tx = call("app.near", "set", "k=v", 2n * NEAR);
    c.run([tx]);
    const [txOutcome, receiptOutcome, refund] = c.trace(tx);
    expect(receiptOutcome?.status).toEqual({ kind: "successValue", value: new Uint8Array() });
    expect(receiptOutcome?.logs).toEqual(["set k"]);
    expect(receiptOutcome?.profile).toEqual([
      { costCategory: "WASM_HOST_COST", cost: "WASM_INSTRUCTION", gasUsed: CALL_BURN },
    ]);
    expect(text(c.store.getData("app.near", new TextEncoder().encode("k")) as Uint8Array)).toBe(
      "v",
    );
    expect(c.store.getAccount("app.near")?.storageUsage).toBe(182n + 8n + 1n + 1n + 40n);
    const reward = ((CALL_BURN * 3n) / 10n) * GAS_PRICE;
    expect(c.balance("app.near")).toBe(appBefore + 2n * NEAR + reward);
    // tokens_burnt in the outcome includes the contract's reward, like nearcore's.
    expect(receiptOutcome?.tokensBurnt).toBe((receiptOutcome?.gasBurnt ?? 0n) * GAS_PRICE);
    expect(refund?.executorId).toBe("alice.near");
    const paid = (txOutcome?.gasBurnt ?? 0n) + (receiptOutcome?.gasBurnt ?? 0n);
    expect(c.balance("alice.near")).toBe(100n * NEAR - 2n * NEAR - paid * GAS_PRICE);
  });

  it("a panic rolls back state, keeps logs, refunds the deposit from system and still burns the gas", () => {
    const c = chain();
    const tx = call("app.near", "panic", "", 3n * NEAR);
    c.run([tx]);
    const [, receiptOutcome, ...refunds] = c.trace(tx);
    expect(receiptOutcome?.status).toEqual({
      kind: "failure",
      error: {
        ActionError: {
          index: 0,
          kind: { FunctionCallError: { ExecutionError: "Smart contract panicked: boom" } },
        },
      },
    });
    expect(receiptOutcome?.logs).toEqual(["about to panic"]);
    expect(c.store.getData("app.near", new TextEncoder().encode("panic"))).toBeNull();
    expect(refunds.map((o) => o.executorId)).toEqual(["alice.near", "alice.near"]);
    const [txOutcome] = c.trace(tx);
    const paid = (txOutcome?.gasBurnt ?? 0n) + (receiptOutcome?.gasBurnt ?? 0n);
    expect(c.balance("alice.near")).toBe(100n * NEAR - paid * GAS_PRICE);
    // No reward for a failed call's contract? nearcore still rewards burnt function-call gas.
    expect(c.balance("app.near")).toBe(50n * NEAR + ((CALL_BURN * 3n) / 10n) * GAS_PRICE);
  });

  it("CodeDoesNotExist and MethodNotFound", () => {
    const c = chain();
    const noCode = call("alice.near", "set", "a=b");
    const missing = call("app.near", "nope");
    c.run([noCode, missing]);
    expect(c.trace(noCode)[1]?.status).toEqual({
      kind: "failure",
      error: {
        ActionError: {
          index: 0,
          kind: {
            FunctionCallError: {
              CompilationError: { CodeDoesNotExist: { account_id: "alice.near" } },
            },
          },
        },
      },
    });
    expect(c.trace(missing)[1]?.status).toEqual({
      kind: "failure",
      error: {
        ActionError: {
          index: 0,
          kind: { FunctionCallError: { MethodResolveError: "MethodNotFound" } },
        },
      },
    });
  });

  it("a contract's transfer receipt moves its balance", () => {
    const c = chain();
    const tx = call("app.near", "transfer_to", "alice.near");
    const aliceBefore = c.balance("alice.near");
    c.run([tx]);
    const outcomes = c.trace(tx);
    const paid = outcomes.reduce((sum, o) => sum + o.tokensBurnt, 0n);
    // alice paid every outcome's burnt tokens (the contract's reward among them) and got 1 NEAR.
    expect(c.balance("alice.near")).toBe(aliceBefore + NEAR - paid);
  });
  it("a gas refund gives the allowance back to the function-call key that paid", () => {
    const c = chain();
    const fcKey = makeKey();
    const allowance = NEAR;
    c.store.applyRecords([
      {
        AccessKey: {
          account_id: "alice.near",
          public_key: fcKey.text,
          access_key: {
            nonce: 0,
            permission: {
              FunctionCall: {
                allowance: allowance.toString(),
                receiver_id: "app.near",
                method_names: [],
              },
            },
          },
        },
      },
    ]);
    const tx = signTx(fcKey, {
      signerId: "alice.near",
      receiverId: "app.near",
      nonce: 1n,
      actions: [
        {
          kind: "functionCall",
          methodName: "set",
          args: new TextEncoder().encode("a=b"),
          gas: 100n * TGAS,
          deposit: 0n,
          gasWeight: 0n,
        },
      ],
    });
    c.run([tx]);
    const spent = c.trace(tx).reduce((sum, o) => sum + o.tokensBurnt, 0n);
    const key = c.store.getAccessKey("alice.near", fcKey.publicKey);
    expect(key?.permission).toMatchObject({ kind: "functionCall", allowance: allowance - spent });
  });
});

describe("cross-contract calls with data dependencies", () => {
  it("a callback waits for the data of the call it depends on, then sees its value", () => {
    const c = chain();
    const tx = call("app.near", "call_other", "other.near:get");
    const results = c.run([tx]);
    const outcomes = c.trace(tx);
    const executors = outcomes.map((o) => o.executorId);
    expect(executors.slice(0, 4)).toEqual(["alice.near", "app.near", "other.near", "app.near"]);
    const first = outcomes[1];
    const callback = outcomes.find(
      (o) => o.logs.includes("ok:none") || o.logs.some((l) => l.startsWith("ok:")),
    );
    expect(callback?.logs).toEqual(["ok:none"]);
    // The first receipt returned the callback's promise: its status names the callback receipt.
    expect(first?.status).toEqual({ kind: "successReceiptId", receiptId: callback?.id });
    // The callback was postponed in one block and ran when the data arrived in the next.
    const blockOf = (id: Uint8Array | undefined) =>
      results.findIndex((r) =>
        r.receiptOutcomes.some((x) => Buffer.from(x.outcome.id).equals(Buffer.from(id ?? []))),
      );
    expect(blockOf(callback?.id)).toBe(blockOf(outcomes[2]?.id) + 1);
    expect(c.store.columns.postponedReceipt.current.size).toBe(0);
    expect(c.store.columns.receivedData.current.size).toBe(0);
  });

  it("a failed dependency reaches the callback as a failed promise result", () => {
    const c = chain();
    const tx = call("app.near", "call_other", "other.near:panic");
    c.run([tx]);
    const callback = c.trace(tx).find((o) => o.logs.includes("failed"));
    expect(callback?.status).toEqual({
      kind: "successValue",
      value: new TextEncoder().encode("failed"),
    });
  });

  it("runs a postponed receipt whether its data arrives before or after it", () => {
    const dataId = new Uint8Array(32).fill(9);
    const waiting: Receipt = {
      predecessorId: "alice.near",
      receiverId: "app.near",
      receiptId: new Uint8Array(32).fill(1),
      body: {
        kind: "action",
        signerId: "alice.near",
        signerPublicKey: alice.publicKey,
        gasPrice: GAS_PRICE,
        outputDataReceivers: [],
        inputDataIds: [dataId],
        actions: [
          {
            kind: "functionCall",
            methodName: "on_result",
            args: new Uint8Array(),
            gas: 10n * TGAS,
            deposit: 0n,
            gasWeight: 0n,
          },
        ],
      },
    };
    const data: Receipt = {
      predecessorId: "other.near",
      receiverId: "app.near",
      receiptId: new Uint8Array(32).fill(2),
      body: { kind: "data", dataId, data: new TextEncoder().encode("hi") },
    };
    for (const order of [
      [waiting, data],
      [data, waiting],
    ]) {
      const c = chain();
      const result = applyChunk(c.store, context(2n), [], order, { vm: fakeContract });
      expect(result.receiptOutcomes.map((r) => r.outcome.logs)).toEqual([["ok:hi"]]);
      expect(result.receiptOutcomes[0]?.receipt.receiptId).toEqual(waiting.receiptId);
    }
    const c = chain();
    applyChunk(c.store, context(2n), [], [waiting], { vm: fakeContract });
    c.store.commitBlock(2n);
    expect(c.store.columns.postponedReceipt.current.size).toBe(1);
    const later = applyChunk(c.store, context(3n), [], [data], { vm: fakeContract });
    expect(later.receiptOutcomes.map((r) => r.outcome.logs)).toEqual([["ok:hi"]]);
    expect(c.store.columns.postponedReceipt.current.size).toBe(0);
  });
});

describe("delegate actions (NEP-366)", () => {
  const relayerKey = makeKey();
  function relayChain() {
    const c = chain();
    c.store.applyRecords(accountRecord("relayer.near", 20n * NEAR, relayerKey));
    return c;
  }
  const delegate = (fields: Partial<DelegateAction>, signer = alice): Action => {
    const d: DelegateAction = {
      senderId: "alice.near",
      receiverId: "other.near",
      actions: [{ kind: "transfer", deposit: NEAR }],
      nonce: 5n,
      maxBlockHeight: 100n,
      publicKey: alice.publicKey,
      ...fields,
    };
    return { kind: "delegate", delegateAction: d, signature: signer.sign(delegateActionHash(d)) };
  };
  let relayNonce = 10n;
  const relay = (action: Action, receiverId = "alice.near") =>
    signTx(relayerKey, {
      signerId: "relayer.near",
      receiverId,
      nonce: relayNonce++,
      actions: [action],
    });

  it("the relayer pays; the inner actions run as the sender; the sender's key nonce advances", () => {
    const c = relayChain();
    const tx = relay(delegate({}));
    c.run([tx]);
    expect(c.balance("other.near")).toBe(51n * NEAR);
    expect(c.balance("alice.near")).toBe(100n * NEAR);
    expect(c.balance("relayer.near")).toBeLessThan(19n * NEAR);
    expect(c.store.getAccessKey("alice.near", alice.publicKey)?.nonce).toBe(5n);
    const outcomes = c.trace(tx);
    expect(outcomes.map((o) => o.status.kind)).not.toContain("failure");
    expect(outcomes[2]?.executorId).toBe("other.near");
  });

  it("reports invalid signature, expiry, sender mismatch, nonce and key errors", () => {
    const c = relayChain();
    const cases: [Action, string, unknown][] = [
      [delegate({}, makeKey()), "alice.near", "DelegateActionInvalidSignature"],
      [delegate({ maxBlockHeight: 1n }), "alice.near", "DelegateActionExpired"],
      [
        delegate({}),
        "other.near",
        {
          DelegateActionSenderDoesNotMatchTxReceiver: {
            sender_id: "alice.near",
            receiver_id: "other.near",
          },
        },
      ],
      [
        delegate({ nonce: 0n }),
        "alice.near",
        { DelegateActionInvalidNonce: { delegate_nonce: 0, ak_nonce: 0 } },
      ],
      [
        delegate({ nonce: 10n ** 12n }),
        "alice.near",
        { DelegateActionNonceTooLarge: { delegate_nonce: 10 ** 12, upper_bound: 3_000_000 } },
      ],
    ];
    const txs = cases.map(([action, receiver]) => relay(action, receiver));
    c.block(txs);
    c.block();
    txs.forEach((tx, i) => {
      const receiptOutcome = c.outcome(c.outcome(tx.hash).receiptIds[0] as Uint8Array);
      expect(receiptOutcome.status).toEqual({
        kind: "failure",
        error: { ActionError: { index: 0, kind: cases[i]?.[2] } },
      });
    });
    const stranger = makeKey();
    const unknownKey = relay(delegate({ publicKey: stranger.publicKey }, stranger));
    c.run([unknownKey]);
    expect(c.trace(unknownKey)[1]?.status).toEqual({
      kind: "failure",
      error: {
        ActionError: {
          index: 0,
          kind: {
            DelegateActionAccessKeyError: {
              AccessKeyNotFound: { account_id: "alice.near", public_key: stranger.text },
            },
          },
        },
      },
    });
  });
});

describe("chunk gas limit", () => {
  it("delays receipts beyond the limit and applies them in later blocks, in order", () => {
    const c = chain();
    // Local receipts (alice -> alice) would run in the same chunk; a tiny limit delays them.
    const self = Array.from({ length: 6 }, (_, i) =>
      signTx(alice, {
        signerId: "alice.near",
        receiverId: "alice.near",
        nonce: nonce++,
        actions: [{ kind: "transfer", deposit: BigInt(i + 1) }],
      }),
    );
    const limit = { gasLimit: 1_500_000_000_000n };
    const first = c.block(self, limit);
    expect(first.receiptOutcomes.length).toBeLessThan(6);
    expect(c.delayedCount()).toBeGreaterThan(0);
    let applied = first.receiptOutcomes.length;
    const order = first.receiptOutcomes.map((r) => r.receipt);
    while (c.delayedCount() > 0) {
      const next = c
        .block([], limit)
        .receiptOutcomes.filter((r) => r.receipt.predecessorId !== "system");
      applied += next.length;
      order.push(...next.map((r) => r.receipt));
    }
    expect(applied).toBe(6);
    expect(order.map((r) => (r.body.kind === "action" ? r.body.actions[0] : null))).toEqual(
      self.map((tx) => tx.transaction.actions[0]),
    );
  });
});
