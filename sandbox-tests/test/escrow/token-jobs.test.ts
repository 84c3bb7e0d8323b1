/**
 * Escrow jobs paid in the usdc test token (NEP-141 through ft_transfer_call / ft_on_transfer): the
 * full lifecycle down to ft withdrawals, prepaid token balances, refunds of everything that does not
 * create a job (not eligible, token not allowed, bad msg, no storage), and a failing ft_transfer
 * that restores the balance.
 */
import { readFileSync } from "node:fs";
import type { NearAccount, TransactionResult } from "near-workspaces";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { contractWasm } from "../../src/contracts.ts";
import {
  acceptAndDeliver,
  advancePast,
  callOk,
  createdJob,
  createTokenJob,
  escrowBalance,
  eventsOf,
  ftBalance,
  ftTransferCall,
  jobFields,
  jobOf,
  ONE_NEAR,
  onlyEvent,
  PRICE,
  setupWorld,
  stateOf,
  storageDeposit,
  TOKEN_STORAGE_FEE,
  totalsOf,
  USDC,
  type World,
  withdrawCall,
} from "./helpers.ts";

let world: World;
let usdcId: string;

beforeAll(async () => {
  world = await setupWorld();
  usdcId = world.usdc.accountId;
});

afterAll(async () => {
  await world?.worker.tearDown();
});

/** The escrow holds exactly what its books say for the token. */
async function expectBooksBalanced(): Promise<void> {
  const totals = await totalsOf(world, usdcId);
  expect(await ftBalance(world, world.escrow)).toBe(
    BigInt(totals.escrowed) + BigInt(totals.credited),
  );
}

/** The transfer-and-call created nothing: the sender has its tokens back and escrow state is unchanged. */
async function expectRefunded(
  sender: NearAccount,
  send: () => Promise<TransactionResult>,
  reason: string | RegExp,
): Promise<void> {
  const before = await ftBalance(world, sender);
  const escrowBefore = await ftBalance(world, world.escrow);
  const state = await stateOf(world.escrow);
  const result = await send();
  const messages = [
    ...result.receiptFailureMessages,
    ...eventsOf(result).map((e) => JSON.stringify(e.data)),
  ]
    .join("\n")
    .replaceAll('\\"', '"');
  expect(messages).toMatch(reason);
  expect(
    eventsOf(result).filter((e) => e.standard === "gpumarket" && e.event !== "job_rejected"),
  ).toEqual([]);
  expect(await ftBalance(world, sender)).toBe(before);
  expect(await ftBalance(world, world.escrow)).toBe(escrowBefore);
  expect(await stateOf(world.escrow)).toEqual(state);
}

describe("full lifecycle in a token", () => {
  test("create through ft_transfer_call, accept, deliver, settle, withdraw with ft_transfer", async () => {
    const { alice, provider, bob, escrow } = world;
    const amount = 100n * USDC;
    const aliceBefore = await ftBalance(world, alice);
    const result = await createTokenJob(world, alice, amount);
    const created = createdJob(result);
    expect(created).toMatchObject({
      asset: usdcId,
      max_amount: amount.toString(),
      status: "requested",
    });
    // ft_transfer_call reports everything used.
    expect(result.parseResult<string>()).toBe(amount.toString());
    expect(aliceBefore - (await ftBalance(world, alice))).toBe(amount);
    expect((await totalsOf(world, usdcId)).escrowed).toBe(amount.toString());
    await expectBooksBalanced();

    const usage = 40_000n;
    const due = usage * PRICE;
    await acceptAndDeliver(world, created.id, usage);
    await advancePast(
      world.worker,
      BigInt((await jobOf(world, created.id)).dispute_deadline ?? "0"),
    );
    const settled = onlyEvent(
      await callOk(bob, escrow, { method: "settle_job", args: { job_id: created.id } }),
      "job_settled",
    );
    const fee = (due * 250n) / 10_000n;
    expect(settled).toMatchObject({
      provider_payout: (due - fee).toString(),
      fee: fee.toString(),
      client_refund: (amount - due).toString(),
    });
    await expectBooksBalanced();

    const providerBefore = await ftBalance(world, provider);
    onlyEventOf(await callOk(provider, escrow, withdrawCall(usdcId)), "withdraw");
    expect((await ftBalance(world, provider)) - providerBefore).toBe(due - fee);
    const aliceMid = await ftBalance(world, alice);
    await callOk(alice, escrow, withdrawCall(usdcId, 10n * USDC));
    expect((await ftBalance(world, alice)) - aliceMid).toBe(10n * USDC);
    expect(await escrowBalance(world, alice, usdcId)).toBe(amount - due - 10n * USDC);
    await expectBooksBalanced();
  });

  test("a failing ft_transfer restores the balance; after registering, the withdrawal works", async () => {
    const { treasury, escrow, usdc } = world;
    const fee = await escrowBalance(world, treasury, usdcId);
    expect(fee).toBeGreaterThan(0n);
    const result = await callOk(treasury, escrow, withdrawCall(usdcId));
    expect(result.parseResult<boolean>()).toBe(false);
    const events = eventsOf(result).filter((e) => e.standard === "gpumarket");
    expect(events.map((e) => e.event)).toEqual(["withdraw", "withdraw_failed"]);
    expect(await escrowBalance(world, treasury, usdcId)).toBe(fee);
    await expectBooksBalanced();

    await storageDeposit(usdc, treasury, TOKEN_STORAGE_FEE);
    const ok = await callOk(treasury, escrow, withdrawCall(usdcId));
    expect(ok.parseResult<boolean>()).toBe(true);
    expect(await ftBalance(world, treasury)).toBe(fee);
    expect(await escrowBalance(world, treasury, usdcId)).toBe(0n);
    await expectBooksBalanced();
  });
});

describe("prepaid token balances", () => {
  test("deposit through ft_transfer_call, then a job paid from the balance", async () => {
    const { bob, escrow } = world;
    const result = await ftTransferCall(world, bob, 50n * USDC, { action: "deposit" });
    expect(result.parseResult<string>()).toBe((50n * USDC).toString());
    expect(onlyEventOf(result, "deposit")).toMatchObject({
      account_id: bob.accountId,
      asset: usdcId,
      amount: (50n * USDC).toString(),
    });
    const created = createdJob(
      await callOk(bob, escrow, {
        method: "create_job",
        args: {
          ...jobFields(world.machine),
          asset: usdcId,
          max_amount: (20n * USDC).toString(),
        },
        gas: 300_000_000_000_000n,
      }),
    );
    expect(created).toMatchObject({ asset: usdcId, max_amount: (20n * USDC).toString() });
    expect(await escrowBalance(world, bob, usdcId)).toBe(30n * USDC);
    await expectBooksBalanced();
  });
});

function onlyEventOf(result: TransactionResult, name: string): Record<string, unknown> {
  const events = eventsOf(result).filter((e) => e.standard === "gpumarket");
  expect(events.map((e) => e.event)).toEqual([name]);
  return events[0]?.data[0] ?? {};
}

describe("everything that does not create a job is refunded", () => {
  test("a stale keyset or a model the machine does not serve", async () => {
    const { alice } = world;
    await expectRefunded(
      alice,
      () => createTokenJob(world, alice, 5n * USDC, { keyset_sha256: "56".repeat(32) }),
      /the machine's keyset changed: .* encrypt again/,
    );
    await expectRefunded(
      alice,
      () => createTokenJob(world, alice, 5n * USDC, { model_hash: "78".repeat(32) }),
      `does not serve model ${"78".repeat(32)}`,
    );
    await expectRefunded(
      alice,
      () => createTokenJob(world, alice, 5n * USDC, { keyset_sha256: undefined }),
      "keyset_sha256: expected a string",
    );
  });

  test("the machine is not eligible", async () => {
    const { provider, registry, alice } = world;
    await callOk(provider, registry, {
      method: "deactivate_machine",
      args: { machine_id: world.machine.id },
      deposit: ONE_NEAR / 100n,
    });
    await expectRefunded(
      alice,
      () => createTokenJob(world, alice, 5n * USDC),
      /is not eligible: machine \d+ is inactive/,
    );
    await callOk(provider, registry, {
      method: "reactivate_machine",
      args: { machine_id: world.machine.id },
      deposit: ONE_NEAR / 100n,
    });
  });

  test("the price is above the client's max_price_per_unit", async () => {
    await expectRefunded(
      world.alice,
      () =>
        createTokenJob(world, world.alice, 5n * USDC, {
          max_price_per_unit: (PRICE - 1n).toString(),
        }),
      /above max_price_per_unit/,
    );
  });

  test("a token governance has not allowed, or has disallowed", async () => {
    const { root, alice, gov, escrow } = world;
    const other = await root.createSubAccount("other-token", { initialBalance: 20n * ONE_NEAR });
    await other.deploy(readFileSync(contractWasm("usdc")));
    await callOk(other, other, {
      method: "init",
      args: { owner_id: alice.accountId, total_supply: "1000000" },
    });
    await storageDeposit(other, escrow, TOKEN_STORAGE_FEE);
    const before = BigInt(await other.view("ft_balance_of", { account_id: alice.accountId }));
    const state = await stateOf(escrow);
    const result = await callOk(alice, other, {
      method: "ft_transfer_call",
      args: {
        receiver_id: escrow.accountId,
        amount: "1000",
        msg: JSON.stringify({ action: "deposit" }),
      },
      deposit: 1n,
      gas: 300_000_000_000_000n,
    });
    expect(result.parseResult<string>()).toBe("0");
    expect(result.receiptFailureMessages.join("\n")).toContain(
      `token ${other.accountId} is not allowed`,
    );
    expect(BigInt(await other.view("ft_balance_of", { account_id: alice.accountId }))).toBe(before);
    expect(await stateOf(escrow)).toEqual(state);

    await callOk(gov, escrow, { method: "disallow_token", args: { token: usdcId } });
    await expectRefunded(
      alice,
      () => createTokenJob(world, alice, 5n * USDC),
      "is not allowed by governance",
    );
    await callOk(gov, escrow, { method: "allow_token", args: { token: usdcId } });
  });

  test("a msg that is not JSON, names no known action, or carries unknown fields", async () => {
    const { alice } = world;
    await expectRefunded(
      alice,
      () => ftTransferCall(world, alice, USDC, "{not json"),
      "msg: not JSON",
    );
    await expectRefunded(
      alice,
      () => ftTransferCall(world, alice, USDC, { action: "steal" }),
      "msg.action: expected one of",
    );
    await expectRefunded(
      alice,
      () =>
        ftTransferCall(world, alice, USDC, {
          action: "create_job",
          job: { ...jobFields(world.machine), x: 1 },
        }),
      'msg.job: unknown field "x"',
    );
    await expectRefunded(
      alice,
      () =>
        ftTransferCall(world, alice, USDC, {
          action: "create_job",
          job: jobFields(world.machine, { model_hash: "zz" }),
        }),
      "model_hash",
    );
  });

  test("a sender without a storage balance on the escrow", async () => {
    const { root, usdc } = world;
    const carol = await root.createSubAccount("carol", { initialBalance: 100n * ONE_NEAR });
    await storageDeposit(usdc, carol, TOKEN_STORAGE_FEE);
    await callOk(usdc, usdc, {
      method: "mint",
      args: { account_id: carol.accountId, amount: "5000000" },
    });
    await expectRefunded(
      carol,
      () => createTokenJob(world, carol, USDC),
      "needs an available storage balance",
    );
  });
});
