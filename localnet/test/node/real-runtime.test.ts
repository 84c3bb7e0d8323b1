/**
 * The node on the real runtime (the VM replaced by the stand-in's): accounts, transfers, access
 * key rules and storage staking through near-api-js 7, with every answer checked against its schema.
 */
import { Account, actions, createTransaction, KeyPairSigner } from "near-api-js";
import { afterAll, beforeAll, expect, test } from "vitest";
import { fromBase58 } from "../../src/node/encoding.ts";
import { createRuntime } from "../../src/runtime/index.ts";
import { ONE_NEAR, randomKey, rpc, rpcResult, startTestNet, type TestNet } from "../rpc/helpers.ts";
import { fakeRunFunctionCall } from "./fake-runtime.ts";

let t: TestNet;

beforeAll(async () => {
  t = await startTestNet(createRuntime(fakeRunFunctionCall));
});

afterAll(async () => {
  await t?.net.stop();
});

async function newAccount(prefix: string, balance: bigint): Promise<Account> {
  const key = randomKey();
  await t.validator.createSubAccount({
    accountOrPrefix: prefix,
    publicKey: key.getPublicKey(),
    nearToTransfer: balance,
  });
  return new Account(`${prefix}.test.near`, t.provider, new KeyPairSigner(key));
}

test("a sub-account gets its balance; a transfer moves it, less gas", async () => {
  const carol = await newAccount("carol", 10n * ONE_NEAR);
  expect((await carol.getState()).balance.total).toBe(10n * ONE_NEAR);
  await carol.transfer({ receiverId: "test.near", amount: 3n * ONE_NEAR });
  const left = (await carol.getState()).balance.total;
  expect(left).toBeLessThan(7n * ONE_NEAR);
  expect(left).toBeGreaterThan(7n * ONE_NEAR - ONE_NEAR / 100n);
});

test("a function-call key cannot transfer; the full access key can delete the account", async () => {
  const dave = await newAccount("dave", 5n * ONE_NEAR);
  const limited = randomKey();
  await dave.addFunctionCallAccessKey({
    publicKey: limited.getPublicKey(),
    contractId: "near",
    methodNames: ["go"],
    allowance: ONE_NEAR,
  });
  const keys = await rpcResult<{ keys: { access_key: { permission: unknown } }[] }>(
    t.net.rpcUrl,
    "query",
    {
      request_type: "view_access_key_list",
      account_id: "dave.test.near",
      finality: "optimistic",
    },
  );
  expect(keys.keys).toHaveLength(2);
  const viaLimited = new Account("dave.test.near", t.provider, new KeyPairSigner(limited));
  await expect(viaLimited.transfer({ receiverId: "near", amount: 1n })).rejects.toThrow(
    /RequiresFullAccess|full access/i,
  );
  await dave.deleteAccount("test.near");
  const gone = await rpc(t.net.rpcUrl, "query", {
    request_type: "view_account",
    account_id: "dave.test.near",
    finality: "final",
  });
  expect(gone.error?.cause.name).toBe("UNKNOWN_ACCOUNT");
});

test("InvalidNonce and NotEnoughBalance come back as nearcore's INVALID_TRANSACTION", async () => {
  const erin = await newAccount("erin", 2n * ONE_NEAR);
  const signer = erin.getSigner() as KeyPairSigner;
  const publicKey = await signer.getPublicKey();
  const accessKey = await t.provider.viewAccessKey({
    accountId: erin.accountId,
    publicKey,
  } as never);
  const block = await t.provider.viewBlock({ finality: "final" });
  const send = async (nonce: bigint, amount: bigint) => {
    const tx = createTransaction(
      erin.accountId,
      publicKey,
      "near",
      nonce,
      [actions.transfer(amount)],
      fromBase58(block.header.hash, "hash"),
    );
    const signed = (await signer.signTransaction(tx)).signedTransaction;
    return rpc(t.net.rpcUrl, "send_tx", {
      signed_tx_base64: Buffer.from(signed.encode()).toString("base64"),
      wait_until: "FINAL",
    });
  };
  const reused = await send(BigInt(accessKey.nonce), 1n);
  expect(reused.error?.data).toMatchObject({
    TxExecutionError: { InvalidTxError: { InvalidNonce: {} } },
  });
  const overdraft = await send(BigInt(accessKey.nonce) + 1n, 3n * ONE_NEAR);
  expect(overdraft.error?.data).toMatchObject({
    TxExecutionError: { InvalidTxError: { NotEnoughBalance: {} } },
  });
  const ok = await send(BigInt(accessKey.nonce) + 1n, ONE_NEAR);
  expect(ok.result).toMatchObject({
    final_execution_status: "FINAL",
    status: { SuccessValue: "" },
  });
});

test("storage staking: code the balance cannot stake is refused and the account stays as it was", async () => {
  const frank = await newAccount("frank", ONE_NEAR / 100n);
  const before = await frank.getState();
  // 2 kB of code needs 0.02 NEAR staked; the account has 0.01 NEAR (accounts under 770 bytes are free).
  const result = await frank.signAndSendTransaction({
    receiverId: frank.accountId,
    actions: [actions.deployContract(new Uint8Array(2_000))],
    throwOnFailure: false,
  });
  expect(JSON.stringify(result.status)).toContain("LackBalanceForState");
  const after = await frank.getState();
  expect(after.storageUsage).toBe(before.storageUsage);
  expect(after.codeHash).toBe("11111111111111111111111111111111");
  expect(after.balance.usedOnStorage).toBe(BigInt(after.storageUsage) * 10n ** 19n);
});
