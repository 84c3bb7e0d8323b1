/**
 * The JSON-RPC surface on the fake runtime: every response matches @near-js/jsonrpc-types'
 * schema, errors come in nearcore's envelope, and near-api-js 7 raises its typed errors.
 */
import { Account, actions, createTransaction, JsonRpcProvider, KeyPairSigner } from "near-api-js";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { fromBase58 } from "../../src/node/encoding.ts";
import { ONE_NEAR, randomKey, rpc, rpcResult, startTestNet, type TestNet } from "./helpers.ts";

let t: TestNet;

beforeAll(async () => {
  t = await startTestNet();
});

afterAll(async () => {
  await t?.net.stop();
});

describe("chain views", () => {
  test("status, block, chunk, gas_price, validators and configs match their schemas", async () => {
    const url = t.net.rpcUrl;
    const status = await rpcResult<{
      sync_info: { latest_block_height: number };
      chain_id: string;
    }>(url, "status", []);
    expect(status.chain_id).toBe("localnet");
    const block = await rpcResult<{
      header: { height: number; hash: string };
      chunks: { chunk_hash: string }[];
    }>(url, "block", { finality: "final" });
    expect(block.header.height).toBeLessThanOrEqual(status.sync_info.latest_block_height);
    const byHeight = await rpcResult<{ header: { hash: string } }>(url, "block", {
      block_id: block.header.height,
    });
    expect(byHeight.header.hash).toBe(block.header.hash);
    const legacy = await rpcResult<{ header: { hash: string } }>(url, "block", [block.header.hash]);
    expect(legacy.header.hash).toBe(block.header.hash);
    const chunkHash = block.chunks[0]?.chunk_hash;
    const chunk = await rpcResult<{ header: { chunk_hash: string } }>(url, "chunk", {
      chunk_id: chunkHash,
    });
    expect(chunk.header.chunk_hash).toBe(chunkHash);
    await rpcResult(url, "chunk", { block_id: block.header.height, shard_id: 0 });
    expect(await rpcResult(url, "gas_price", [null])).toEqual({ gas_price: "100000000" });
    const validators = await rpcResult<{ current_validators: { account_id: string }[] }>(
      url,
      "validators",
      [null],
    );
    expect(validators.current_validators.map((v) => v.account_id)).toEqual(["test.near"]);
    const config = await rpcResult<{ runtime_config: { storage_amount_per_byte: string } }>(
      url,
      "EXPERIMENTAL_protocol_config",
      { finality: "final" },
    );
    expect(config.runtime_config.storage_amount_per_byte).toBe("10000000000000000000");
    const genesis = await rpcResult<{ epoch_length: number }>(
      url,
      "EXPERIMENTAL_genesis_config",
      null,
    );
    expect(genesis.epoch_length).toBe(500);
  });

  test("an unknown block is UNKNOWN_BLOCK in nearcore's envelope", async () => {
    const answer = await rpc(t.net.rpcUrl, "block", { block_id: 999_999 });
    expect(answer.error).toEqual({
      name: "HANDLER_ERROR",
      cause: { name: "UNKNOWN_BLOCK", info: {} },
      code: -32000,
      message: "Server error",
      data: "DB Not Found Error: BLOCK HEIGHT: 999999 \n Cause: Unknown",
    });
  });

  test("unknown methods and malformed params are request validation errors", async () => {
    const missing = await rpc(t.net.rpcUrl, "no_such_method", {});
    expect(missing.error?.cause).toEqual({
      name: "METHOD_NOT_FOUND",
      info: { method_name: "no_such_method" },
    });
    expect(missing.error?.code).toBe(-32601);
    const bad = await rpc(t.net.rpcUrl, "block", { finality: "soon" });
    expect(bad.error?.name).toBe("REQUEST_VALIDATION_ERROR");
    expect(bad.error?.cause.name).toBe("PARSE_ERROR");
    expect(String(bad.error?.data)).toContain("finality");
    const response = await fetch(t.net.rpcUrl, { method: "POST", body: "{not json" });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { error: { cause: { name: string } } };
    expect(body.error.cause.name).toBe("PARSE_ERROR");
  });
});

describe("accounts and transactions through near-api-js 7", () => {
  test("create an account, transfer, and read both balances", async () => {
    const key = randomKey();
    const result = await t.validator.createSubAccount({
      accountOrPrefix: "alice",
      publicKey: key.getPublicKey(),
      nearToTransfer: 10n * ONE_NEAR,
    });
    // Blocks are produced until the work is final before anyone is answered.
    expect(["EXECUTED_OPTIMISTIC", "EXECUTED", "FINAL"]).toContain(result.final_execution_status);
    const alice = new Account("alice.test.near", t.provider, new KeyPairSigner(key));
    expect((await alice.getState()).balance.total).toBe(10n * ONE_NEAR);
    await alice.transfer({ receiverId: "test.near", amount: ONE_NEAR });
    const after = await alice.getState();
    expect(after.balance.total).toBeLessThan(9n * ONE_NEAR);
    expect(after.balance.total).toBeGreaterThan(9n * ONE_NEAR - ONE_NEAR / 100n);
  });

  test("a view of a missing account raises AccountDoesNotExist", async () => {
    await expect(t.provider.viewAccount({ accountId: "nobody.test.near" })).rejects.toMatchObject({
      name: expect.stringMatching(/AccountDoesNotExist/),
    });
    const answer = await rpc(t.net.rpcUrl, "query", {
      request_type: "view_account",
      account_id: "nobody.test.near",
      finality: "final",
    });
    expect(answer.error?.cause.name).toBe("UNKNOWN_ACCOUNT");
    expect(answer.error?.data).toBe("account nobody.test.near does not exist while viewing");
  });

  test("a reused nonce is InvalidNonce; an overdraft is NotEnoughBalance", async () => {
    const signer = KeyPairSigner.fromSecretKey(t.net.accounts.validator.secretKey as never);
    const publicKey = await signer.getPublicKey();
    const accessKey = await t.provider.viewAccessKey({
      accountId: "test.near",
      publicKey,
      finalityQuery: { finality: "optimistic" },
    } as never);
    const block = await t.provider.viewBlock({ finality: "final" });
    const sign = async (nonce: bigint, amount: bigint) => {
      const tx = createTransaction(
        "test.near",
        publicKey,
        "near",
        nonce,
        [actions.transfer(amount)],
        fromBase58(block.header.hash, "hash"),
      );
      return (await signer.signTransaction(tx)).signedTransaction;
    };
    const stale = await sign(BigInt(accessKey.nonce), 1n);
    await expect(t.provider.sendTransaction(stale)).rejects.toMatchObject({
      name: "InvalidNonceError",
    });
    const raw = await rpc(t.net.rpcUrl, "send_tx", {
      signed_tx_base64: Buffer.from(stale.encode()).toString("base64"),
      wait_until: "EXECUTED",
    });
    expect(raw.error?.cause).toEqual({ name: "INVALID_TRANSACTION", info: {} });
    expect(raw.error?.data).toMatchObject({
      TxExecutionError: { InvalidTxError: { InvalidNonce: {} } },
    });
    const overdraft = await sign(BigInt(accessKey.nonce) + 1n, 10n ** 40n);
    await expect(t.provider.sendTransaction(overdraft)).rejects.toMatchObject({
      name: "NotEnoughBalanceError",
    });
  });

  test("send_tx honours wait_until, and tx/EXPERIMENTAL_tx_status report the outcome", async () => {
    const signer = KeyPairSigner.fromSecretKey(t.net.accounts.validator.secretKey as never);
    const publicKey = await signer.getPublicKey();
    const accessKey = await t.provider.viewAccessKey({
      accountId: "test.near",
      publicKey,
    } as never);
    const block = await t.provider.viewBlock({ finality: "final" });
    const tx = createTransaction(
      "test.near",
      publicKey,
      "near",
      BigInt(accessKey.nonce) + 1n,
      [actions.transfer(5n)],
      fromBase58(block.header.hash, "hash"),
    );
    const signed = (await signer.signTransaction(tx)).signedTransaction;
    const base64 = Buffer.from(signed.encode()).toString("base64");
    const none = await rpcResult(t.net.rpcUrl, "send_tx", {
      signed_tx_base64: base64,
      wait_until: "NONE",
    });
    expect(none).toEqual({ final_execution_status: "NONE" });
    const hash = await rpcResult<string>(t.net.rpcUrl, "broadcast_tx_async", [base64]);
    const final = await rpcResult<{
      final_execution_status: string;
      status: unknown;
      receipts_outcome: { outcome: { logs: string[] } }[];
    }>(t.net.rpcUrl, "tx", { tx_hash: hash, sender_account_id: "test.near", wait_until: "FINAL" });
    expect(final.final_execution_status).toBe("FINAL");
    expect(final.status).toEqual({ SuccessValue: "" });
    expect(final.receipts_outcome[0]?.outcome.logs).toEqual(["received 5"]);
    const withReceipts = await rpcResult<{ receipts: { receiver_id: string }[] }>(
      t.net.rpcUrl,
      "EXPERIMENTAL_tx_status",
      {
        tx_hash: hash,
        sender_account_id: "test.near",
      },
    );
    expect(withReceipts.receipts.map((r) => r.receiver_id)).toEqual(["near"]);
    const unknown = await rpc(t.net.rpcUrl, "tx", {
      tx_hash: "11111111111111111111111111111111",
      sender_account_id: "test.near",
    });
    expect(unknown.error?.cause.name).toBe("UNKNOWN_TRANSACTION");
  });
});

describe("view calls", () => {
  test("call_function returns bytes and logs; a panic is nearcore's wasm execution error", async () => {
    const net = t.net;
    const code = Buffer.from("\0asm\x01\0\0\0");
    net.node.patchState([{ Contract: { account_id: "near", code: code.toString("base64") } }]);
    const ok = await rpcResult<{ result: number[]; logs: string[] }>(net.rpcUrl, "query", {
      request_type: "call_function",
      account_id: "near",
      method_name: "echo",
      args_base64: Buffer.from("hi").toString("base64"),
      finality: "optimistic",
    });
    expect(Buffer.from(ok.result).toString()).toBe("hi");
    expect(ok.logs).toEqual(["viewed echo"]);
    const panic = await rpcResult<{ error: string }>(net.rpcUrl, "query", {
      request_type: "call_function",
      account_id: "near",
      method_name: "panic",
      args_base64: "",
      finality: "optimistic",
    });
    expect(panic.error).toBe(
      'wasm execution failed with error: FunctionCallError(HostError(GuestPanic { panic_msg: "boom" }))',
    );
    const provider = new JsonRpcProvider({ url: net.rpcUrl });
    await expect(
      provider.callFunction({ contractId: "near", method: "panic", args: {} } as never),
    ).rejects.toThrow(/GuestPanic/);
    const noCode = await rpc(net.rpcUrl, "query", {
      request_type: "call_function",
      account_id: "test.near",
      method_name: "x",
      args_base64: "",
      finality: "optimistic",
    });
    expect(noCode.error?.cause.name).toBe("NO_CONTRACT_CODE");
  });

  test("legacy positional queries still work", async () => {
    const account = await rpcResult<{ amount: string }>(t.net.rpcUrl, "query", [
      "account/test.near",
      "",
    ]);
    expect(BigInt(account.amount)).toBeGreaterThan(0n);
    const keys = await rpcResult<{ keys: unknown[] }>(t.net.rpcUrl, "query", [
      "access_key/test.near",
      "",
    ]);
    expect(keys.keys.length).toBeGreaterThan(0);
  });
});

describe("sandbox methods", () => {
  test("sandbox_patch_state rewrites an account; sandbox_fast_forward moves height and time", async () => {
    const url = t.net.rpcUrl;
    const view = await rpcResult<Record<string, unknown>>(url, "query", {
      request_type: "view_account",
      account_id: "near",
      finality: "optimistic",
    });
    await rpcResult(url, "sandbox_patch_state", {
      records: [{ Account: { account_id: "near", account: { ...view, amount: "777" } } }],
    });
    const patched = await rpcResult<{ amount: string }>(url, "query", {
      request_type: "view_account",
      account_id: "near",
      finality: "optimistic",
    });
    expect(patched.amount).toBe("777");
    const before = await rpcResult<{ header: { height: number; timestamp_nanosec: string } }>(
      url,
      "block",
      { finality: "optimistic" },
    );
    await rpcResult(url, "sandbox_fast_forward", { delta_height: 1000 });
    const after = await rpcResult<{ header: { height: number; timestamp_nanosec: string } }>(
      url,
      "block",
      { finality: "final" },
    );
    expect(after.header.height - before.header.height).toBeGreaterThanOrEqual(1000);
    expect(
      BigInt(after.header.timestamp_nanosec) - BigInt(before.header.timestamp_nanosec),
    ).toBeGreaterThanOrEqual(1000n * 10n ** 9n);
    const bad = await rpc(url, "sandbox_fast_forward", { delta_height: -1 });
    expect(bad.error?.cause.name).toBe("PARSE_ERROR");
  });
});
