import { describe, expect, it } from "vitest";
import { runtimeConfig } from "../../src/config/runtime-config.ts";
import { sha256 } from "../../src/runtime/transaction-codec.ts";
import type { Action } from "../../src/runtime/types.ts";
import { hashToString } from "../../src/runtime/views.ts";
import { accountRecord, GAS_PRICE, makeKey, NEAR, noVM, signTx, TestChain } from "./helpers.ts";

const fees = runtimeConfig.transaction_costs.action_creation_config;
const RECEIPT = 108_059_500_000n;
const TRANSFER = BigInt(fees.transfer_cost.execution);

const alice = makeKey();
const bob = makeKey();

function chain() {
  return new TestChain(noVM, [
    ...accountRecord("alice.near", 100n * NEAR, alice),
    ...accountRecord("bob.near", 10n * NEAR, bob),
  ]);
}

let nonce = 100n;
const from = (
  signerId: string,
  receiverId: string,
  actions: Action[],
  key = signerId === "bob.near" ? bob : alice,
) => signTx(key, { signerId, receiverId, nonce: nonce++, actions });

const failure = (c: TestChain, txHash: Uint8Array) => {
  const receiptOutcome = c.outcome(c.outcome(txHash).receiptIds[0] as Uint8Array);
  return receiptOutcome.status.kind === "failure" ? receiptOutcome.status.error : null;
};

describe("transfer", () => {
  it("moves the deposit, burns send + execution fees at the block gas price and refunds the price difference", () => {
    const c = chain();
    const tx = from("alice.near", "bob.near", [{ kind: "transfer", deposit: 3n * NEAR }]);
    c.run([tx]);
    expect(c.balance("bob.near")).toBe(13n * NEAR);
    const gas = 2n * (RECEIPT + TRANSFER);
    expect(c.balance("alice.near")).toBe(100n * NEAR - 3n * NEAR - gas * GAS_PRICE);
    const [txOutcome, receiptOutcome, refundOutcome] = c.trace(tx);
    expect(txOutcome?.tokensBurnt).toBe((RECEIPT + TRANSFER) * GAS_PRICE);
    expect(receiptOutcome?.executorId).toBe("bob.near");
    expect(receiptOutcome?.status).toEqual({ kind: "successValue", value: new Uint8Array() });
    expect(receiptOutcome?.gasBurnt).toBe(RECEIPT + TRANSFER);
    // The refund of the pessimistic price (1.03x) comes from "system", costs nothing.
    expect(refundOutcome?.executorId).toBe("alice.near");
    expect(refundOutcome?.tokensBurnt).toBe(0n);
    expect(refundOutcome?.gasBurnt).toBe(RECEIPT + TRANSFER);
    expect(c.store.getAccessKey("alice.near", alice.publicKey)?.nonce).toBe(nonce - 1n);
  });

  it("to a missing named account fails with AccountDoesNotExist and refunds the deposit", () => {
    const c = chain();
    const tx = from("alice.near", "ghost.near", [{ kind: "transfer", deposit: 5n * NEAR }]);
    c.run([tx]);
    expect(failure(c, tx.hash)).toEqual({
      ActionError: { index: 0, kind: { AccountDoesNotExist: { account_id: "ghost.near" } } },
    });
    expect(c.store.getAccount("ghost.near")).toBeNull();
    const gas = 2n * (RECEIPT + TRANSFER);
    expect(c.balance("alice.near")).toBe(100n * NEAR - gas * GAS_PRICE);
  });

  it("creates a NEAR-implicit account with a full access key of its own public key", () => {
    const c = chain();
    const owner = makeKey();
    const implicitId = Buffer.from(owner.publicKey.data).toString("hex");
    const tx = from("alice.near", implicitId, [{ kind: "transfer", deposit: NEAR }]);
    c.run([tx]);
    const account = c.store.getAccount(implicitId);
    expect(account?.amount).toBe(NEAR);
    expect(account?.storageUsage).toBe(182n);
    const key = c.store.getAccessKey(implicitId, owner.publicKey);
    expect(key?.permission).toEqual({ kind: "fullAccess" });
    // Nonce starts at (height - 1) * 1e6 of the block that created it.
    expect(key?.nonce).toBe((c.height - 1n - 1n) * 1_000_000n);
    // The implicit creation fee (create account + full access key) is charged on top of the transfer.
    const outcome = c.trace(tx)[1];
    expect(outcome?.gasBurnt).toBe(
      RECEIPT +
        TRANSFER +
        BigInt(fees.create_account_cost.execution) +
        BigInt(fees.add_key_cost.full_access_cost.execution),
    );
  });

  it("implicit accounts cannot be made with CreateAccount", () => {
    const c = chain();
    const implicitId = "a".repeat(64);
    const tx = from("alice.near", implicitId, [
      { kind: "createAccount" },
      { kind: "transfer", deposit: NEAR },
    ]);
    c.run([tx]);
    expect(failure(c, tx.hash)).toEqual({
      ActionError: {
        index: 0,
        kind: { OnlyImplicitAccountCreationAllowed: { account_id: implicitId } },
      },
    });
  });
});

describe("create account", () => {
  it("creates a sub-account of its predecessor with a key and a deposit", () => {
    const c = chain();
    const key = makeKey();
    const tx = from("alice.near", "sub.alice.near", [
      { kind: "createAccount" },
      { kind: "transfer", deposit: 2n * NEAR },
      { kind: "addKey", publicKey: key.publicKey, nonce: 0n, permission: { kind: "fullAccess" } },
    ]);
    const results = c.run([tx]);
    const account = c.store.getAccount("sub.alice.near");
    expect(account).toMatchObject({ amount: 2n * NEAR, locked: 0n, storageUsage: 182n });
    expect(c.store.getAccessKey("sub.alice.near", key.publicKey)?.nonce).toBe(
      (c.height - 1n - 1n) * 1_000_000n,
    );
    const changes = results.flatMap((r) => r.stateChanges);
    expect(changes).toContainEqual(
      expect.objectContaining({
        cause: {
          type: "receipt_processing",
          receipt_hash: hashToString(c.outcome(tx.hash).receiptIds[0] as Uint8Array),
        },
        type: "account_update",
        change: expect.objectContaining({
          account_id: "sub.alice.near",
          amount: (2n * NEAR).toString(),
          storage_usage: 182,
        }),
      }),
    );
    expect(changes).toContainEqual(
      expect.objectContaining({
        type: "access_key_update",
        change: expect.objectContaining({ account_id: "sub.alice.near", public_key: key.text }),
      }),
    );
  });

  it("CreateAccountNotAllowed for someone else's sub-account, CreateAccountOnlyByRegistrar for short top-level names, AccountAlreadyExists", () => {
    const c = chain();
    const notMine = from("alice.near", "sub.bob.near", [
      { kind: "createAccount" },
      { kind: "transfer", deposit: NEAR },
    ]);
    const deep = from("alice.near", "a.b.alice.near", [{ kind: "createAccount" }]);
    const topLevel = from("alice.near", "shortname", [{ kind: "createAccount" }]);
    const exists = from("alice.near", "bob.near", [{ kind: "createAccount" }]);
    c.run([notMine, deep, topLevel, exists]);
    expect(failure(c, notMine.hash)).toEqual({
      ActionError: {
        index: 0,
        kind: {
          CreateAccountNotAllowed: { account_id: "sub.bob.near", predecessor_id: "alice.near" },
        },
      },
    });
    expect(failure(c, deep.hash)).toEqual({
      ActionError: {
        index: 0,
        kind: {
          CreateAccountNotAllowed: { account_id: "a.b.alice.near", predecessor_id: "alice.near" },
        },
      },
    });
    expect(failure(c, topLevel.hash)).toEqual({
      ActionError: {
        index: 0,
        kind: {
          CreateAccountOnlyByRegistrar: {
            account_id: "shortname",
            registrar_account_id: "registrar",
            predecessor_id: "alice.near",
          },
        },
      },
    });
    expect(failure(c, exists.hash)).toEqual({
      ActionError: { index: 0, kind: { AccountAlreadyExists: { account_id: "bob.near" } } },
    });
    expect(c.store.getAccount("sub.bob.near")).toBeNull();
  });

  it("a new account without enough balance for its storage fails with LackBalanceForState (index null) and is rolled back", () => {
    const c = chain();
    const key = makeKey();
    const tx = from("alice.near", "tiny.alice.near", [
      { kind: "createAccount" },
      { kind: "transfer", deposit: 1n },
      { kind: "deployContract", code: new Uint8Array(2000) },
      { kind: "addKey", publicKey: key.publicKey, nonce: 0n, permission: { kind: "fullAccess" } },
    ]);
    c.run([tx]);
    const error = failure(c, tx.hash) as {
      ActionError: { index: null; kind: { LackBalanceForState: Record<string, string> } };
    };
    expect(error.ActionError.index).toBeNull();
    expect(error.ActionError.kind.LackBalanceForState.account_id).toBe("tiny.alice.near");
    // 100 + 2000 + 182-100 bytes at 1e19 each, minus the 1 yocto it holds.
    expect(BigInt(error.ActionError.kind.LackBalanceForState.amount ?? "")).toBe(
      2182n * 10n ** 19n - 1n,
    );
    expect(c.store.getAccount("tiny.alice.near")).toBeNull();
    expect(c.store.getCode("tiny.alice.near")).toBeNull();
    // The 1 yocto deposit went back to alice.
    const gasPaid = 100n * NEAR - c.balance("alice.near");
    expect(gasPaid % 10n ** 8n).toBe(0n);
  });
});

describe("keys, contracts, deletion", () => {
  it("adds and deletes keys with storage accounting, and reports AddKeyAlreadyExists / DeleteKeyDoesNotExist", () => {
    const c = chain();
    const k = makeKey();
    const before = c.store.getAccount("alice.near")?.storageUsage ?? 0n;
    const add = from("alice.near", "alice.near", [
      {
        kind: "addKey",
        publicKey: k.publicKey,
        nonce: 0n,
        permission: {
          kind: "functionCall",
          allowance: NEAR,
          receiverId: "app.near",
          methodNames: ["a", "bc"],
        },
      },
    ]);
    c.run([add]);
    // 33 (key) + 8 (nonce) + 1 (tag) + 17 (Some(u128)) + 4+8 (receiver) + 4 + (4+1) + (4+2) (names) + 40
    expect(c.store.getAccount("alice.near")?.storageUsage).toBe(before + 126n);
    const again = from("alice.near", "alice.near", [
      { kind: "addKey", publicKey: k.publicKey, nonce: 0n, permission: { kind: "fullAccess" } },
    ]);
    const del = from("alice.near", "alice.near", [{ kind: "deleteKey", publicKey: k.publicKey }]);
    c.run([again]);
    c.run([del]);
    const delAgain = from("alice.near", "alice.near", [
      { kind: "deleteKey", publicKey: k.publicKey },
    ]);
    c.run([delAgain]);
    expect(failure(c, again.hash)).toEqual({
      ActionError: {
        index: 0,
        kind: { AddKeyAlreadyExists: { account_id: "alice.near", public_key: k.text } },
      },
    });
    expect(failure(c, del.hash)).toBeNull();
    expect(failure(c, delAgain.hash)).toEqual({
      ActionError: {
        index: 0,
        kind: { DeleteKeyDoesNotExist: { account_id: "alice.near", public_key: k.text } },
      },
    });
    expect(c.store.getAccount("alice.near")?.storageUsage).toBe(before);
  });

  it("ActorNoPermission when acting on another account's keys or code", () => {
    const c = chain();
    const tx = from("alice.near", "bob.near", [
      { kind: "deployContract", code: new Uint8Array([1, 2, 3]) },
    ]);
    c.run([tx]);
    expect(failure(c, tx.hash)).toEqual({
      ActionError: {
        index: 0,
        kind: { ActorNoPermission: { account_id: "bob.near", actor_id: "alice.near" } },
      },
    });
  });

  it("deploys code: code hash and storage usage follow the code size, also on redeploy", () => {
    const c = chain();
    const before = c.store.getAccount("bob.near")?.storageUsage ?? 0n;
    const code = new Uint8Array(1000).fill(7);
    c.run([from("bob.near", "bob.near", [{ kind: "deployContract", code }])]);
    expect(c.store.getAccount("bob.near")?.codeHash).toEqual(sha256(code));
    expect(c.store.getAccount("bob.near")?.storageUsage).toBe(before + 1000n);
    c.run([from("bob.near", "bob.near", [{ kind: "deployContract", code: new Uint8Array(10) }])]);
    expect(c.store.getAccount("bob.near")?.storageUsage).toBe(before + 10n);
    expect(c.store.getCode("bob.near")?.length).toBe(10);
  });

  it("deletes an account: keys, code and data go, the beneficiary receives the balance", () => {
    const c = chain();
    c.store.applyRecords([
      {
        Data: {
          account_id: "bob.near",
          data_key: Buffer.from("k").toString("base64"),
          value: Buffer.from("v").toString("base64"),
        },
      },
    ]);
    c.run([from("bob.near", "bob.near", [{ kind: "deployContract", code: new Uint8Array(10) }])]);
    const bobBalance = c.balance("bob.near");
    const aliceBefore = c.balance("alice.near");
    const tx = from("bob.near", "bob.near", [
      { kind: "deleteAccount", beneficiaryId: "alice.near" },
    ]);
    c.run([tx]);
    expect(c.store.getAccount("bob.near")).toBeNull();
    expect(c.store.listAccessKeys("bob.near")).toEqual([]);
    expect(c.store.getCode("bob.near")).toBeNull();
    expect(c.store.listData("bob.near", new Uint8Array())).toEqual([]);
    // The gas refund to bob is burnt (bob is gone); alice gets bob's balance after the transaction fee.
    const txCost = c.outcome(tx.hash).tokensBurnt;
    expect(c.balance("alice.near") - aliceBefore).toBeGreaterThan(bobBalance - txCost - 10n ** 21n);
    expect(c.balance("alice.near") - aliceBefore).toBeLessThan(bobBalance - txCost);
  });

  it("a failing action rolls back the earlier actions of the same receipt", () => {
    const c = chain();
    const k = makeKey();
    const tx = from("alice.near", "alice.near", [
      { kind: "addKey", publicKey: k.publicKey, nonce: 0n, permission: { kind: "fullAccess" } },
      { kind: "deleteKey", publicKey: makeKey().publicKey },
    ]);
    c.run([tx]);
    expect((failure(c, tx.hash) as { ActionError: { index: number } }).ActionError.index).toBe(1);
    expect(c.store.getAccessKey("alice.near", k.publicKey)).toBeNull();
    expect(c.store.getAccessKey("alice.near", alice.publicKey)).not.toBeNull();
  });

  it("stakes lock balance; TriesToUnstake and TriesToStake are reported", () => {
    const c = chain();
    const stake = (amount: bigint) =>
      from("bob.near", "bob.near", [{ kind: "stake", stake: amount, publicKey: bob.publicKey }]);
    const unstake = stake(0n);
    c.run([unstake]);
    expect(failure(c, unstake.hash)).toEqual({
      ActionError: { index: 0, kind: { TriesToUnstake: { account_id: "bob.near" } } },
    });
    c.run([stake(4n * NEAR)]);
    expect(c.store.getAccount("bob.near")?.locked).toBe(4n * NEAR);
    const tooMuch = stake(100n * NEAR);
    c.run([tooMuch]);
    expect(failure(c, tooMuch.hash)).toMatchObject({
      ActionError: {
        index: 0,
        kind: { TriesToStake: { account_id: "bob.near", stake: (100n * NEAR).toString() } },
      },
    });
  });
});

describe("state records and versions", () => {
  it("recomputes storage usage from records and serves past blocks with at(height)", () => {
    const c = chain();
    expect(c.store.getAccount("alice.near")?.storageUsage).toBe(182n);
    c.run([from("alice.near", "bob.near", [{ kind: "transfer", deposit: NEAR }])]);
    expect(c.store.at(1n)?.getAccount("bob.near")?.amount).toBe(10n * NEAR);
    expect(c.store.at(c.height)?.getAccount("bob.near")?.amount).toBe(11n * NEAR);
    expect(c.store.at(0n)).toBeNull();
    const records = c.store.records();
    expect(records).toContainEqual({
      AccessKey: {
        account_id: "bob.near",
        public_key: bob.text,
        access_key: { nonce: 0, permission: "FullAccess" },
      },
    });
  });
});
