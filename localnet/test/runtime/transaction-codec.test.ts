import {
  actions,
  buildDelegateAction,
  createTransaction,
  encodeDelegateAction,
  encodeSignedDelegate,
  encodeTransaction,
  KeyPair,
  PublicKey as NapiPublicKey,
  Signature as NapiSignature,
  SignedTransaction as NapiSignedTransaction,
} from "near-api-js";
import { describe, expect, it } from "vitest";
import { RuntimeInvalidTxError } from "../../src/runtime/errors.ts";
import { publicKeyToString, verifySignature } from "../../src/runtime/keys.ts";
import {
  decodeSignedTransaction,
  decodeSignedTransactionBase64,
  delegateActionHash,
  encodeSignedTransaction,
  encodeTransaction as ourEncodeTransaction,
  sha256,
} from "../../src/runtime/transaction-codec.ts";

const blockHash = sha256(new TextEncoder().encode("block"));

function napiSigned(
  keyPair: KeyPair,
  actionList: unknown[],
  signerId = "alice.test.near",
  receiverId = "bob.test.near",
) {
  const tx = createTransaction(
    signerId,
    keyPair.getPublicKey(),
    receiverId,
    42n,
    actionList as never,
    blockHash,
  );
  const bytes = encodeTransaction(tx);
  const hash = sha256(bytes);
  const { signature } = keyPair.sign(hash);
  const signed = new NapiSignedTransaction({
    transaction: tx,
    signature: new NapiSignature({ keyType: keyPair.getPublicKey().keyType, data: signature }),
  });
  return { bytes: signed.encode(), hash, tx };
}

describe("transaction codec", () => {
  it("decodes every action kind near-api-js 7 encodes, with the same hash and size", () => {
    const keyPair = KeyPair.fromRandom("ed25519");
    const other = KeyPair.fromRandom("ed25519").getPublicKey();
    const list = [
      actions.createAccount(),
      actions.deployContract(new Uint8Array([0, 97, 115, 109])),
      actions.functionCall("do_it", new TextEncoder().encode('{"a":1}'), 30n * 10n ** 12n, 5n),
      actions.transfer(10n ** 24n),
      actions.stake(7n, other),
      actions.addFunctionCallAccessKey(other, "app.test.near", ["m1", "m2"], 250n),
      actions.addFullAccessKey(other),
      actions.deleteKey(other),
      actions.deleteAccount("bob.test.near"),
    ];
    const { bytes, hash } = napiSigned(keyPair, list);
    const decoded = decodeSignedTransaction(bytes);
    expect(decoded.hash).toEqual(hash);
    expect(decoded.size).toBe(bytes.length);
    const t = decoded.transaction;
    expect(t.signerId).toBe("alice.test.near");
    expect(t.receiverId).toBe("bob.test.near");
    expect(t.nonce).toBe(42n);
    expect(publicKeyToString(t.publicKey)).toBe(keyPair.getPublicKey().toString());
    expect(t.actions.map((a) => a.kind)).toEqual([
      "createAccount",
      "deployContract",
      "functionCall",
      "transfer",
      "stake",
      "addKey",
      "addKey",
      "deleteKey",
      "deleteAccount",
    ]);
    expect(t.actions[2]).toMatchObject({ methodName: "do_it", gas: 30n * 10n ** 12n, deposit: 5n });
    expect(t.actions[5]).toMatchObject({
      permission: {
        kind: "functionCall",
        allowance: 250n,
        receiverId: "app.test.near",
        methodNames: ["m1", "m2"],
      },
    });
    expect(verifySignature(decoded.hash, decoded.signature, t.publicKey)).toBe(true);
    // Our encoder reproduces the exact bytes.
    expect(encodeSignedTransaction(t, decoded.signature)).toEqual(bytes);
    expect(sha256(ourEncodeTransaction(t))).toEqual(hash);
  });

  it("decodes a signed delegate action and computes the hash its sender signed", () => {
    const sender = KeyPair.fromRandom("ed25519");
    const relayer = KeyPair.fromRandom("ed25519");
    const delegateAction = buildDelegateAction({
      actions: [actions.transfer(3n)],
      maxBlockHeight: 1000n,
      nonce: 7n,
      publicKey: sender.getPublicKey(),
      receiverId: "carol.test.near",
      senderId: "alice.test.near",
    } as never);
    const encoded = encodeDelegateAction(delegateAction);
    const signature = sender.sign(sha256(encoded)).signature;
    const signed = actions.signedDelegate({
      delegateAction,
      signature: new NapiSignature({ keyType: 0, data: signature }),
    } as never);
    expect(
      encodeSignedDelegate({
        delegateAction,
        signature: new NapiSignature({ keyType: 0, data: signature }),
      } as never).length,
    ).toBeGreaterThan(0);
    const { bytes } = napiSigned(relayer, [signed], "relayer.test.near", "alice.test.near");
    const decoded = decodeSignedTransaction(bytes);
    const action = decoded.transaction.actions[0];
    if (action?.kind !== "delegate") throw new Error("expected a delegate action");
    expect(action.delegateAction).toMatchObject({
      senderId: "alice.test.near",
      receiverId: "carol.test.near",
      nonce: 7n,
      maxBlockHeight: 1000n,
    });
    expect(delegateActionHash(action.delegateAction)).toEqual(sha256(encoded));
    expect(
      verifySignature(
        delegateActionHash(action.delegateAction),
        action.signature,
        action.delegateAction.publicKey,
      ),
    ).toBe(true);
  });

  it("rejects truncated input, trailing bytes, unknown tags and V1 transactions with clear errors", () => {
    const keyPair = KeyPair.fromRandom("ed25519");
    const { bytes } = napiSigned(keyPair, [actions.transfer(1n)]);
    expect(() => decodeSignedTransaction(bytes.subarray(0, bytes.length - 10))).toThrow(
      /unexpected end of input reading signature/,
    );
    expect(() => decodeSignedTransaction(new Uint8Array([...bytes, 0]))).toThrow(
      /1 trailing bytes/,
    );
    const badTag = bytes.slice();
    // signer id (4+15) + key (33) + nonce (8) + receiver (4+13) + hash (32) + vec len (4) -> action tag
    badTag[4 + 15 + 33 + 8 + 4 + 13 + 32 + 4] = 42;
    expect(() => decodeSignedTransaction(badTag)).toThrow(/unknown action tag 42/);
    const v1 = new Uint8Array([1, ...bytes]);
    let error: unknown;
    try {
      decodeSignedTransaction(v1);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(RuntimeInvalidTxError);
    expect((error as RuntimeInvalidTxError).view).toBe("InvalidTransactionVersion");
    expect(() => decodeSignedTransactionBase64("not base64!")).toThrow(/base64/);
    expect(decodeSignedTransactionBase64(Buffer.from(bytes).toString("base64")).size).toBe(
      bytes.length,
    );
  });

  it("rejects a signature made by another key", () => {
    const keyPair = KeyPair.fromRandom("ed25519");
    const { bytes } = napiSigned(keyPair, [actions.transfer(1n)]);
    const decoded = decodeSignedTransaction(bytes);
    const other = NapiPublicKey.fromString(KeyPair.fromRandom("ed25519").getPublicKey().toString());
    expect(verifySignature(decoded.hash, decoded.signature, { keyType: 0, data: other.data })).toBe(
      false,
    );
  });
});
