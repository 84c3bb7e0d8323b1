import { describe, expect, it } from "vitest";
import { runtimeConfig } from "../../src/config/runtime-config.ts";
import { RuntimeInvalidTxError } from "../../src/runtime/errors.ts";
import { MemoryStateStore } from "../../src/runtime/state-store.ts";
import type { Action, SignedTransaction } from "../../src/runtime/types.ts";
import { type VerifyContext, validateTransaction } from "../../src/runtime/verifier.ts";
import { accountRecord, GAS_PRICE, makeKey, NEAR, signTx, TGAS } from "./helpers.ts";

const alice = makeKey();
const fcKey = makeKey();
const store = new MemoryStateStore();
store.applyRecords([
  ...accountRecord("alice.near", 100n * NEAR, alice),
  {
    AccessKey: {
      account_id: "alice.near",
      public_key: fcKey.text,
      access_key: {
        nonce: 5,
        permission: {
          FunctionCall: {
            allowance: "100000000000000000000000",
            receiver_id: "app.near",
            method_names: ["go"],
          },
        },
      },
    },
  },
  ...accountRecord("poor.near", 1n, alice),
]);
store.commitBlock(1n);

const ctx: VerifyContext = {
  config: runtimeConfig,
  gasPrice: GAS_PRICE,
  blockHeight: 10n,
  isBlockHashValid: () => true,
};

const transfer = (amount: bigint): Action => ({ kind: "transfer", deposit: amount });
const call = (method: string, deposit = 0n, gas = 10n * TGAS): Action => ({
  kind: "functionCall",
  methodName: method,
  args: new Uint8Array(),
  gas,
  deposit,
  gasWeight: 0n,
});

function errorOf(
  tx: SignedTransaction,
  c: VerifyContext = ctx,
): { view: unknown; message: string } {
  try {
    validateTransaction(store, tx, c);
  } catch (e) {
    if (!(e instanceof RuntimeInvalidTxError)) throw e;
    return { view: e.view, message: e.message };
  }
  throw new Error("transaction was accepted");
}

const tx = (fields: Partial<Parameters<typeof signTx>[1]> & { key?: typeof alice }) =>
  signTx(fields.key ?? alice, {
    signerId: "alice.near",
    receiverId: "bob.near",
    nonce: 1n,
    actions: [transfer(NEAR)],
    ...fields,
  });

describe("validateTransaction", () => {
  it("accepts a valid transfer and prices it with the pessimistic receipt gas price", () => {
    const cost = validateTransaction(store, tx({}), ctx);
    const send = 108_059_500_000n + 115_123_062_500n;
    expect(cost.gasBurnt).toBe(send);
    expect(cost.burntAmount).toBe(send * GAS_PRICE);
    // One hop to another account: price * 1.03, rounded up.
    expect(cost.receiptGasPrice).toBe(103_000_000n);
    expect(cost.totalCost).toBe(send * GAS_PRICE + cost.gasRemaining * 103_000_000n + NEAR);
  });

  it("Expired when the block hash is unknown or too old", () => {
    expect(errorOf(tx({}), { ...ctx, isBlockHashValid: () => false })).toEqual({
      view: "Expired",
      message: "Transaction has expired",
    });
  });

  it("InvalidSignature", () => {
    const other = makeKey();
    const signed = tx({});
    const forged = { ...signed, signature: other.sign(signed.hash) };
    expect(errorOf(forged)).toEqual({
      view: "InvalidSignature",
      message: "Transaction is not signed with the given public key",
    });
  });

  it("InvalidSignerId and InvalidReceiverId", () => {
    expect(errorOf(tx({ signerId: "Alice" })).view).toEqual({
      InvalidSignerId: { signer_id: "Alice" },
    });
    expect(errorOf(tx({ receiverId: "bob..near" })).view).toEqual({
      InvalidReceiverId: { receiver_id: "bob..near" },
    });
  });

  it("SignerDoesNotExist", () => {
    expect(errorOf(tx({ signerId: "nobody.near" }))).toEqual({
      view: { SignerDoesNotExist: { signer_id: "nobody.near" } },
      message: 'Signer "nobody.near" does not exist',
    });
  });

  it("AccessKeyNotFound", () => {
    const stranger = makeKey();
    expect(errorOf(tx({ key: stranger })).view).toEqual({
      InvalidAccessKeyError: {
        AccessKeyNotFound: { account_id: "alice.near", public_key: stranger.text },
      },
    });
  });

  it("InvalidNonce and NonceTooLarge", () => {
    expect(
      errorOf(tx({ key: fcKey, receiverId: "app.near", nonce: 5n, actions: [call("go")] })),
    ).toEqual({
      view: { InvalidNonce: { tx_nonce: 5, ak_nonce: 5 } },
      message: "Transaction nonce 5 must be larger than nonce of the used access key 5",
    });
    expect(errorOf(tx({ nonce: 10_000_000n })).view).toEqual({
      NonceTooLarge: { tx_nonce: 10_000_000, upper_bound: 10_000_000 },
    });
  });

  it("NotEnoughBalance with balance and cost", () => {
    const e = errorOf(tx({ actions: [transfer(1000n * NEAR)] }));
    const view = e.view as {
      NotEnoughBalance: { signer_id: string; balance: string; cost: string };
    };
    expect(view.NotEnoughBalance.signer_id).toBe("alice.near");
    expect(view.NotEnoughBalance.balance).toBe((100n * NEAR).toString());
    expect(BigInt(view.NotEnoughBalance.cost)).toBeGreaterThan(1000n * NEAR);
    expect(e.message).toMatch(
      /^Sender "alice.near" does not have enough balance 100000000000000000000000000 for operation costing \d+$/,
    );
  });

  it("LackBalanceForState when the charge leaves too little for storage", () => {
    // storage_usage was recomputed to 182 bytes (1.82e21 yocto); 1 yocto cannot pay anything.
    const poorStore = new MemoryStateStore();
    const records = accountRecord("rich-but-big.near", 2n * 10n ** 21n, alice);
    poorStore.applyRecords([
      ...records,
      {
        Data: {
          account_id: "rich-but-big.near",
          data_key: "AA==",
          value: Buffer.alloc(1000).toString("base64"),
        },
      },
    ]);
    let view: unknown;
    try {
      validateTransaction(
        poorStore,
        tx({ signerId: "rich-but-big.near", actions: [transfer(1n)] }),
        ctx,
      );
    } catch (e) {
      view = (e as RuntimeInvalidTxError).view;
    }
    const lack = (view as { LackBalanceForState: { signer_id: string; amount: string } })
      .LackBalanceForState;
    expect(lack.signer_id).toBe("rich-but-big.near");
    expect(BigInt(lack.amount)).toBeGreaterThan(0n);
  });

  it("function-call key: RequiresFullAccess, DepositWithFunctionCall, ReceiverMismatch, MethodNameMismatch, NotEnoughAllowance", () => {
    const fc = (fields: Partial<Parameters<typeof signTx>[1]>) =>
      tx({ key: fcKey, receiverId: "app.near", nonce: 6n, actions: [call("go")], ...fields });
    expect(errorOf(fc({ actions: [transfer(1n)] })).view).toEqual({
      InvalidAccessKeyError: "RequiresFullAccess",
    });
    expect(errorOf(fc({ actions: [call("go", 0n, TGAS), call("go", 0n, TGAS)] })).view).toEqual({
      InvalidAccessKeyError: "RequiresFullAccess",
    });
    expect(errorOf(fc({ actions: [call("go", 1n)] })).view).toEqual({
      InvalidAccessKeyError: "DepositWithFunctionCall",
    });
    expect(errorOf(fc({ receiverId: "other.near" })).view).toEqual({
      InvalidAccessKeyError: {
        ReceiverMismatch: { tx_receiver: "other.near", ak_receiver: "app.near" },
      },
    });
    expect(errorOf(fc({ actions: [call("stop")] }))).toEqual({
      view: { InvalidAccessKeyError: { MethodNameMismatch: { method_name: "stop" } } },
      message: 'Transaction method name "stop" isn\'t allowed by the access key',
    });
    const e = errorOf(fc({ actions: [call("go", 0n, 300n * TGAS)] }));
    const inner = (
      e.view as { InvalidAccessKeyError: { NotEnoughAllowance: Record<string, string> } }
    ).InvalidAccessKeyError.NotEnoughAllowance;
    expect(inner).toMatchObject({
      account_id: "alice.near",
      public_key: fcKey.text,
      allowance: "100000000000000000000000",
    });
    expect(() => validateTransaction(store, fc({}), ctx)).not.toThrow();
  });

  it("ActionsValidation errors", () => {
    const validation = (actions: Action[]) => errorOf(tx({ actions })).view;
    expect(validation([call("go", 0n, 0n)])).toEqual({
      ActionsValidation: "FunctionCallZeroAttachedGas",
    });
    expect(validation([call("a", 0n, 200n * TGAS), call("b", 0n, 200n * TGAS)])).toEqual({
      ActionsValidation: {
        TotalPrepaidGasExceeded: {
          total_prepaid_gas: 400_000_000_000_000,
          limit: 300_000_000_000_000,
        },
      },
    });
    expect(
      validation([{ kind: "deleteAccount", beneficiaryId: "bob.near" }, transfer(1n)]),
    ).toEqual({
      ActionsValidation: "DeleteActionMustBeFinal",
    });
    expect(validation(Array.from({ length: 101 }, () => transfer(1n)))).toEqual({
      ActionsValidation: {
        TotalNumberOfActionsExceeded: { total_number_of_actions: 101, limit: 100 },
      },
    });
    expect(validation([call("x".repeat(257))])).toEqual({
      ActionsValidation: { FunctionCallMethodNameLengthExceeded: { length: 257, limit: 256 } },
    });
    expect(
      validation([
        {
          kind: "addKey",
          publicKey: makeKey().publicKey,
          nonce: 0n,
          permission: {
            kind: "functionCall",
            allowance: null,
            receiverId: "Not Valid",
            methodNames: [],
          },
        },
      ]),
    ).toEqual({ ActionsValidation: { InvalidAccountId: { account_id: "Not Valid" } } });
    expect(errorOf(tx({ actions: [call("go", 0n, 0n)] })).message).toBe(
      "Transaction actions validation error: The attached amount of gas in a FunctionCall action has to be a positive number.",
    );
  });

  it("TransactionSizeExceeded", () => {
    const big = tx({ actions: [{ kind: "deployContract", code: new Uint8Array(1_600_000) }] });
    expect(errorOf(big).view).toEqual({
      TransactionSizeExceeded: { size: big.size, limit: 1_572_864 },
    });
  });

  it("CostOverflow when the deposits overflow u128", () => {
    expect(errorOf(tx({ actions: [transfer(2n ** 127n), transfer(2n ** 127n)] })).view).toBe(
      "CostOverflow",
    );
  });
});
