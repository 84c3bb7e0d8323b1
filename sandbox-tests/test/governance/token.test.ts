/**
 * The governance token: NEP-141 transfers and events, NEP-145 storage (checkpoints charged to
 * the account that causes them), NEP-148 metadata, delegation and past votes.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  balanceOf,
  callOk,
  callRaw,
  eventsOf,
  expectRejected,
  ONE_NEAR,
  TGAS,
} from "../registry/helpers.ts";
import {
  type Dao,
  delegate,
  eventNames,
  height,
  STORAGE_DEPOSIT,
  setupDao,
  TOKEN,
} from "./helpers.ts";

let dao: Dao;

beforeAll(async () => {
  dao = await setupDao();
});

afterAll(async () => {
  await dao?.worker.tearDown();
});

const balance = (account: Dao["alice"]) =>
  dao.gov.view("ft_balance_of", { account_id: account.accountId });

describe("NEP-141 and NEP-148", () => {
  test("the fixed supply was minted to the holders; metadata is as given", async () => {
    expect(await dao.gov.view("ft_total_supply", {})).toBe((1000n * TOKEN).toString());
    expect(await balance(dao.alice)).toBe((400n * TOKEN).toString());
    expect(await balance(dao.gov)).toBe((100n * TOKEN).toString());
    expect(await balance(dao.dave)).toBe("0");
    expect(await dao.gov.view("ft_metadata", {})).toEqual({
      spec: "ft-1.0.0",
      name: "GPU Market Governance",
      symbol: "GPUG",
      icon: null,
      reference: null,
      reference_hash: null,
      decimals: 24,
    });
  });

  test("ft_transfer moves tokens with a nep141 event and needs exactly 1 yoctoNEAR", async () => {
    await callOk(dao.dave, dao.gov, {
      method: "storage_deposit",
      args: {},
      deposit: STORAGE_DEPOSIT,
    });
    const result = await callOk(dao.alice, dao.gov, {
      method: "ft_transfer",
      args: { receiver_id: dao.dave.accountId, amount: "1000", memo: "hi" },
      deposit: 1n,
    });
    expect(eventsOf(result)).toEqual([
      {
        standard: "nep141",
        version: "1.0.0",
        event: "ft_transfer",
        data: [
          {
            old_owner_id: dao.alice.accountId,
            new_owner_id: dao.dave.accountId,
            amount: "1000",
            memo: "hi",
          },
        ],
      },
    ]);
    expect(await balance(dao.dave)).toBe("1000");
    const transfer = (args: Record<string, unknown>, deposit = 1n) => ({
      method: "ft_transfer",
      args: { receiver_id: dao.dave.accountId, amount: "1", ...args },
      deposit,
    });
    await expectRejected(
      dao.alice,
      dao.gov,
      transfer({}, 0n),
      "ft_transfer requires exactly 1 yoctoNEAR",
    );
    await expectRejected(
      dao.alice,
      dao.gov,
      transfer({}, 2n),
      "ft_transfer requires exactly 1 yoctoNEAR",
    );
    await expectRejected(
      dao.alice,
      dao.gov,
      transfer({ amount: "0" }),
      "amount: must be greater than 0",
    );
    await expectRejected(
      dao.alice,
      dao.gov,
      transfer({ amount: "1.5" }),
      'amount: "1.5" is not a u128',
    );
    await expectRejected(
      dao.dave,
      dao.gov,
      transfer({ receiver_id: dao.alice.accountId, amount: "1001" }),
      `amount: ${dao.dave.accountId} holds 1000, less than 1001`,
    );
    await expectRejected(
      dao.alice,
      dao.gov,
      transfer({ receiver_id: dao.guardian.accountId }),
      `receiver_id: ${dao.guardian.accountId} is not registered with the token`,
    );
    await expectRejected(
      dao.alice,
      dao.gov,
      transfer({ receiver_id: dao.alice.accountId }),
      `receiver_id: ${dao.alice.accountId} is the sender`,
    );
  });

  test("ft_transfer_call to a receiver without ft_on_transfer refunds everything", async () => {
    const before = await balance(dao.alice);
    const result = await callRaw(dao.alice, dao.gov, {
      method: "ft_transfer_call",
      args: { receiver_id: dao.dave.accountId, amount: "500", msg: "" },
      deposit: 1n,
      gas: 100n * TGAS,
    });
    // dave has no contract: ft_on_transfer fails, and the resolve returns the 500.
    expect(result.parseResult<string>()).toBe("0");
    expect(eventNames(result)).toEqual(["ft_transfer", "ft_transfer"]);
    expect(await balance(dao.alice)).toBe(before);
    expect(await balance(dao.dave)).toBe("1000");
  });
});

describe("NEP-145", () => {
  test("bounds, registration, balances and unregistering", async () => {
    const bounds = (await dao.gov.view("storage_balance_bounds", {})) as { min: string; max: null };
    expect(bounds.max).toBeNull();
    expect(
      await dao.gov.view("storage_balance_of", { account_id: dao.guardian.accountId }),
    ).toBeNull();
    await expectRejected(
      dao.guardian,
      dao.gov,
      { method: "storage_deposit", args: {}, deposit: BigInt(bounds.min) - 1n },
      `is less than the ${bounds.min} needed to register ${dao.guardian.accountId}`,
    );
    const before = await balanceOf(dao.guardian);
    const result = await callOk(dao.guardian, dao.gov, {
      method: "storage_deposit",
      args: { registration_only: true },
      deposit: ONE_NEAR,
    });
    expect(eventNames(result)).toEqual(["storage_balance_updated"]);
    const spent = before - (await balanceOf(dao.guardian));
    expect(spent).toBeGreaterThanOrEqual(BigInt(bounds.min));
    expect(spent).toBeLessThan(BigInt(bounds.min) + ONE_NEAR / 100n);
    const registered = (await dao.gov.view("storage_balance_of", {
      account_id: dao.guardian.accountId,
    })) as { total: string; available: string };
    expect(registered.total).toBe(bounds.min);
    expect(BigInt(registered.available)).toBeGreaterThan(0n);

    const unregister = await callOk(dao.guardian, dao.gov, {
      method: "storage_unregister",
      args: {},
      deposit: 1n,
    });
    expect(unregister.parseResult<boolean>()).toBe(true);
    expect(
      await dao.gov.view("storage_balance_of", { account_id: dao.guardian.accountId }),
    ).toBeNull();
    await expectRejected(
      dao.dave,
      dao.gov,
      { method: "storage_unregister", args: { force: true }, deposit: 1n },
      `${dao.dave.accountId} still holds 1000 tokens: the supply is fixed, so tokens cannot be burnt`,
    );
  });

  test("checkpoints are paid from the storage balance of whoever causes them", async () => {
    await callOk(dao.guardian, dao.gov, {
      method: "storage_deposit",
      args: { registration_only: true },
      deposit: ONE_NEAR,
    });
    await callOk(dao.dave, dao.gov, {
      method: "ft_transfer",
      args: { receiver_id: dao.guardian.accountId, amount: "10" },
      deposit: 1n,
    });
    // The guardian delegates, then withdraws every spare yoctoNEAR of its storage balance.
    await delegate(dao, dao.guardian, dao.guardian);
    await callOk(dao.guardian, dao.gov, { method: "storage_withdraw", args: {}, deposit: 1n });
    expect(
      await dao.gov.view("storage_balance_of", { account_id: dao.guardian.accountId }),
    ).toMatchObject({ available: "0" });
    // A transfer that writes a new checkpoint now fails until the guardian deposits again.
    await dao.worker.provider.fastForward(1);
    // (Its logs, written before the check failed, belong to a failed receipt: indexers skip those.)
    const refused = await callRaw(dao.guardian, dao.gov, {
      method: "ft_transfer",
      args: { receiver_id: dao.dave.accountId, amount: "1" },
      deposit: 1n,
    });
    expect(refused.failed).toBe(true);
    expect(refused.receiptFailureMessages.join("\n")).toContain(
      `storage balance of ${dao.guardian.accountId} is too low`,
    );
    expect(await balance(dao.guardian)).toBe("10");
    await callOk(dao.guardian, dao.gov, {
      method: "storage_deposit",
      args: {},
      deposit: ONE_NEAR / 100n,
    });
    await callOk(dao.guardian, dao.gov, {
      method: "ft_transfer",
      args: { receiver_id: dao.dave.accountId, amount: "1" },
      deposit: 1n,
    });
  });
});

describe("delegation and past votes", () => {
  test("votes follow delegation and balances, checkpointed by block height", async () => {
    expect(await dao.gov.view("get_votes", { account_id: dao.bob.accountId })).toBe("0");
    expect(await dao.gov.view("delegates", { account_id: dao.bob.accountId })).toBeNull();
    const first = await delegate(dao, dao.bob, dao.carol);
    expect(eventNames(first)).toEqual(["delegate_changed", "delegate_votes_changed"]);
    const afterFirst = await height(dao.worker);
    expect(await dao.gov.view("get_votes", { account_id: dao.carol.accountId })).toBe(
      (300n * TOKEN).toString(),
    );
    await delegate(dao, dao.carol, dao.carol);
    await callOk(dao.bob, dao.gov, {
      method: "ft_transfer",
      args: { receiver_id: dao.dave.accountId, amount: (100n * TOKEN).toString() },
      deposit: 1n,
    });
    // dave has not delegated: tokens sent to him count for nobody.
    expect(await dao.gov.view("get_votes", { account_id: dao.carol.accountId })).toBe(
      (400n * TOKEN).toString(),
    );
    expect(
      await dao.gov.view("get_past_votes", {
        account_id: dao.carol.accountId,
        block_height: afterFirst,
      }),
    ).toBe((300n * TOKEN).toString());
    expect(
      await dao.gov.view("get_past_votes", { account_id: dao.carol.accountId, block_height: 1 }),
    ).toBe("0");
    const checkpoints = (await dao.gov.view("checkpoints", {
      account_id: dao.carol.accountId,
    })) as {
      block_height: number;
      votes: string;
    }[];
    expect(checkpoints.map((c) => c.votes)).toEqual([
      (300n * TOKEN).toString(),
      (500n * TOKEN).toString(),
      (400n * TOKEN).toString(),
    ]);
    await expectRejected(
      dao.bob,
      dao.gov,
      { method: "delegate", args: { delegatee: dao.carol.accountId }, deposit: 1n },
      `delegatee: ${dao.bob.accountId} already delegates to ${dao.carol.accountId}`,
    );
    await expectRejected(
      dao.bob,
      dao.gov,
      { method: "delegate", args: { delegatee: "Not An Account" }, deposit: 1n },
      'delegatee: "Not An Account" is not a valid NEAR account id',
    );
    await expect(
      dao.gov.view("get_past_votes", { account_id: dao.carol.accountId, block_height: 10 ** 9 }),
    ).rejects.toThrow("block_height: must be between 0 and");
  });
});
