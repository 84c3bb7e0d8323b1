/**
 * Inference sessions: one budget escrowed for many requests, paid by vouchers the client's session
 * key signs off-chain. Opening (NEAR, balance, allowance, token; refusals refund everything),
 * claiming vouchers (replay, stale nonce, over budget, wrong key, wrong caller, closed session
 * refused with nothing changed), closing by the provider or by the client after expiry, settling
 * early or after the window, disputes and the arbiter; every balance checked.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  addDevMachine,
  advancePast,
  BYTE_COST,
  balanceOf,
  callOk,
  callRaw,
  escrowBalance,
  expectRejected,
  ftBalance,
  ftTransferCall,
  MAX_GAS,
  newSessionKey,
  ONE_NEAR,
  onlyEvent,
  openedSession,
  openNearSession,
  PRICE,
  SECOND_NS,
  SESSION_STORAGE_FEE,
  type SessionKey,
  type SessionView,
  sessionFields,
  sessionOf,
  setupWorld,
  TEST_PARAMS,
  totalsOf,
  USDC,
  voucher,
  type World,
} from "./helpers.ts";

const FEE_BPS = BigInt(TEST_PARAMS.fee_bps);

let world: World;

beforeAll(async () => {
  world = await setupWorld({ ...TEST_PARAMS, min_session_ns: SECOND_NS.toString() });
});

afterAll(async () => {
  await world?.worker.tearDown();
});

async function exposure(): Promise<number> {
  const view = (await world.escrow.view("provider_exposure", {
    account_id: world.provider.accountId,
  })) as { open_jobs: number };
  return view.open_jobs;
}

async function escrowed(asset = "NEAR"): Promise<bigint> {
  return BigInt((await totalsOf(world, asset)).escrowed);
}

describe("opening", () => {
  test("with attached NEAR: the budget is escrowed and the machine's terms snapshotted", async () => {
    const key = newSessionKey();
    const before = await escrowed();
    const exposureBefore = await exposure();
    const result = await callRaw(world.alice, world.escrow, {
      method: "open_session",
      args: sessionFields(world.machine, key),
      deposit: ONE_NEAR,
      gas: MAX_GAS,
    });
    const session = openedSession(result);
    expect(session).toMatchObject({
      client: world.alice.accountId,
      payer: world.alice.accountId,
      client_key: key.publicKey,
      machine_id: world.machine.id,
      provider: world.provider.accountId,
      machine_public_key: world.machine.publicKey,
      price_per_unit: PRICE.toString(),
      keyset_sha256: world.machine.keysetSha256,
      encryption_key: world.machine.encryptionKey,
      asset: "NEAR",
      budget: ONE_NEAR.toString(),
      claimed: "0",
      nonce: "0",
      status: "open",
    });
    expect(BigInt(session.expires_at) - BigInt(session.opened_at)).toBe(60n * SECOND_NS);
    expect(await escrowed()).toBe(before + ONE_NEAR);
    expect(await exposure()).toBe(exposureBefore + 1);
    expect(await sessionOf(world, session.id)).toEqual(session);
    const listed = (await world.escrow.view("sessions_by_client", {
      account_id: world.alice.accountId,
    })) as SessionView[];
    expect(listed.map((s) => s.id)).toContain(session.id);
  });

  test("refused by the registry's answer: the deposit comes back, no session", async () => {
    const key = newSessionKey();
    const before = await balanceOf(world.alice);
    const escrowedBefore = await escrowed();
    const result = await callRaw(world.alice, world.escrow, {
      method: "open_session",
      args: sessionFields(world.machine, key, { max_price_per_unit: (PRICE - 1n).toString() }),
      deposit: ONE_NEAR,
      gas: MAX_GAS,
    });
    expect(result.failed).toBe(false);
    const rejected = result.logs.find((l) => l.includes('"session_rejected"'));
    expect(rejected).toContain(`price per unit ${PRICE} is above max_price_per_unit ${PRICE - 1n}`);
    expect(before - (await balanceOf(world.alice))).toBeLessThan(ONE_NEAR / 100n);
    expect(await escrowed()).toBe(escrowedBefore);
  });

  test("a stale keyset is refused and refunded", async () => {
    const result = await callRaw(world.bob, world.escrow, {
      method: "open_session",
      args: sessionFields(world.machine, newSessionKey(), { keyset_sha256: "12".repeat(32) }),
      deposit: ONE_NEAR,
      gas: MAX_GAS,
    });
    expect(result.logs.join("\n")).toMatch(/the machine's keyset changed: .* open again/);
  });

  test("bad arguments fail up front with nothing changed", async () => {
    const key = newSessionKey();
    const cases: [Record<string, unknown>, string | RegExp][] = [
      [{ client_key: "ed25519:abc" }, "client_key"],
      [{ client_key: `secp256k1:${"a".repeat(36)}` }, 'client_key: expected "ed25519:<base58>"'],
      [{ expires_within_ns: "1" }, "expires_within_ns: must be between"],
      [{ max_price_per_unit: undefined }, "max_price_per_unit: required"],
      [{ keyset_sha256: "zz" }, "keyset_sha256"],
      [{ surprise: 1 }, "surprise"],
    ];
    for (const [override, message] of cases) {
      await expectRejected(
        world.alice,
        world.escrow,
        {
          method: "open_session",
          args: sessionFields(world.machine, key, override),
          deposit: ONE_NEAR,
          gas: MAX_GAS,
        },
        message,
      );
    }
    await expectRejected(
      world.alice,
      world.escrow,
      { method: "open_session", args: sessionFields(world.machine, key), gas: MAX_GAS },
      "attach NEAR, or give asset and budget",
    );
  });

  test("from a prepaid balance, and through an allowance within its limit only", async () => {
    const { alice, bob, escrow } = world;
    await callOk(alice, escrow, { method: "deposit", args: {}, deposit: 3n * ONE_NEAR });
    const balanceBefore = await escrowBalance(world, alice);
    const own = openedSession(
      await callRaw(alice, escrow, {
        method: "open_session",
        args: {
          ...sessionFields(world.machine, newSessionKey()),
          asset: "NEAR",
          budget: ONE_NEAR.toString(),
        },
        gas: MAX_GAS,
      }),
    );
    expect(own.payer).toBe(alice.accountId);
    expect(await escrowBalance(world, alice)).toBe(balanceBefore - ONE_NEAR);

    await callOk(alice, escrow, {
      method: "set_allowance",
      args: {
        spender: bob.accountId,
        asset: "NEAR",
        limit: ONE_NEAR.toString(),
        period_ns: (3600n * SECOND_NS).toString(),
      },
    });
    const fields = {
      ...sessionFields(world.machine, newSessionKey()),
      asset: "NEAR",
      payer: alice.accountId,
    };
    await expectRejected(
      bob,
      escrow,
      {
        method: "open_session",
        args: { ...fields, budget: (2n * ONE_NEAR).toString() },
        gas: MAX_GAS,
      },
      `budget: ${2n * ONE_NEAR} is more than the ${ONE_NEAR} NEAR left of ${alice.accountId}'s allowance`,
    );
    const spent = openedSession(
      await callRaw(bob, escrow, {
        method: "open_session",
        args: { ...fields, budget: (ONE_NEAR / 2n).toString() },
        gas: MAX_GAS,
      }),
    );
    expect(spent).toMatchObject({ client: bob.accountId, payer: alice.accountId });
    expect(await escrowBalance(world, alice)).toBe(balanceBefore - ONE_NEAR - ONE_NEAR / 2n);
  });

  test("in a token: opened with ft_transfer_call; a refusal returns every unit", async () => {
    const { alice } = world;
    const before = await ftBalance(world, alice);
    const escrowedBefore = await escrowed(world.usdc.accountId);
    const session = openedSession(
      await ftTransferCall(world, alice, 20n * USDC, {
        action: "open_session",
        session: sessionFields(world.machine, newSessionKey()),
      }),
    );
    expect(session.asset).toBe(world.usdc.accountId);
    expect(await ftBalance(world, alice)).toBe(before - 20n * USDC);
    expect(await escrowed(world.usdc.accountId)).toBe(escrowedBefore + 20n * USDC);

    const refused = await ftTransferCall(world, alice, 5n * USDC, {
      action: "open_session",
      session: sessionFields(world.machine, newSessionKey(), { max_price_per_unit: "1" }),
    });
    expect(refused.logs.join("\n")).toContain("session_rejected");
    expect(await ftBalance(world, alice)).toBe(before - 20n * USDC);
    expect(await escrowed(world.usdc.accountId)).toBe(escrowedBefore + 20n * USDC);
  });
});

/** An open NEAR session of alice's with a fresh key. */
async function openSession(budget = ONE_NEAR, expiresInSeconds = 60n) {
  const key = newSessionKey();
  const session = await openNearSession(world, world.alice, key, budget, {
    expires_within_ns: (expiresInSeconds * SECOND_NS).toString(),
  });
  return { key, session };
}

function claim(sessionId: string, v: ReturnType<typeof voucher>) {
  return { method: "claim_session", args: { session_id: sessionId, ...v } };
}

describe("vouchers", () => {
  test("the provider claims; replay, stale nonce, over budget, wrong key and wrong caller are refused", async () => {
    const { provider, alice, escrow } = world;
    const { key, session } = await openSession(10n ** 20n);
    const v1 = voucher(world, session.id, key, 3n * 10n ** 19n, 5n);
    const claimed = onlyEvent(
      await callOk(provider, escrow, claim(session.id, v1)),
      "session_claimed",
    );
    expect(claimed).toMatchObject({
      claimed: v1.amount,
      nonce: "5",
      voucher_signature: v1.signature,
    });

    await expectRejected(provider, escrow, claim(session.id, v1), "nonce: 5 is not above 5");
    await expectRejected(
      provider,
      escrow,
      claim(session.id, voucher(world, session.id, key, 4n * 10n ** 19n, 4n)),
      "nonce: 4 is not above 5",
    );
    await expectRejected(
      provider,
      escrow,
      claim(session.id, voucher(world, session.id, key, 10n ** 20n + 1n, 6n)),
      `amount: ${10n ** 20n + 1n} is over session ${session.id}'s budget`,
    );
    await expectRejected(
      provider,
      escrow,
      claim(session.id, voucher(world, session.id, newSessionKey(), 4n * 10n ** 19n, 6n)),
      `signature: not a signature by session ${session.id}'s client key`,
    );
    const other = await openSession();
    await expectRejected(
      provider,
      escrow,
      claim(session.id, voucher(world, other.session.id, key, 4n * 10n ** 19n, 6n)),
      "signature: not a signature",
    );
    await expectRejected(
      alice,
      escrow,
      claim(session.id, voucher(world, session.id, key, 4n * 10n ** 19n, 6n)),
      `only session ${session.id}'s provider may do this`,
    );
    // A later voucher replaces the claim.
    const v2 = voucher(world, session.id, key, 4n * 10n ** 19n, 6n);
    await callOk(provider, escrow, claim(session.id, v2));
    expect(await sessionOf(world, session.id)).toMatchObject({ claimed: v2.amount, nonce: "6" });
  });
});

describe("closing and settling", () => {
  test("provider closes with its last voucher; the client settles early; balances exact", async () => {
    const { provider, alice, treasury, escrow } = world;
    const budget = 10n ** 20n;
    const { key, session } = await openSession(budget);
    const paid = 37n * 10n ** 18n;
    const providerBefore = await escrowBalance(world, provider);
    const treasuryBefore = await escrowBalance(world, treasury);
    const aliceBefore = await escrowBalance(world, alice);
    const escrowedBefore = await escrowed();
    const exposureBefore = await exposure();

    const closing = onlyEvent(
      await callOk(provider, escrow, {
        method: "close_session",
        args: { session_id: session.id, voucher: voucher(world, session.id, key, paid, 1n) },
      }),
      "session_closing",
    );
    expect(closing).toMatchObject({
      status: "closing",
      closed_by: "provider",
      claimed: paid.toString(),
    });
    // Settling before the window: only the side that did not close.
    await expectRejected(
      provider,
      escrow,
      { method: "settle_session", args: { session_id: session.id } },
      "before that only the client or payer settles it",
    );
    const settled = onlyEvent(
      await callOk(alice, escrow, { method: "settle_session", args: { session_id: session.id } }),
      "session_settled",
    );
    const fee = (paid * FEE_BPS) / 10_000n;
    expect(settled).toMatchObject({
      status: "settled",
      settled_by: "counterparty",
      provider_payout: (paid - fee).toString(),
      fee: fee.toString(),
      client_refund: (budget - paid).toString(),
    });
    expect(await escrowBalance(world, provider)).toBe(providerBefore + paid - fee);
    expect(await escrowBalance(world, treasury)).toBe(treasuryBefore + fee);
    expect(await escrowBalance(world, alice)).toBe(aliceBefore + budget - paid);
    expect(await escrowed()).toBe(escrowedBefore - budget);
    expect(await exposure()).toBe(exposureBefore - 1);

    // A closed session takes no more vouchers, closes and settles no more.
    await expectRejected(
      provider,
      escrow,
      claim(session.id, voucher(world, session.id, key, budget, 2n)),
      `session ${session.id} is settled; claim needs it open or closing`,
    );
    await expectRejected(
      provider,
      escrow,
      { method: "close_session", args: { session_id: session.id } },
      "close needs it open",
    );
    await expectRejected(
      alice,
      escrow,
      { method: "settle_session", args: { session_id: session.id } },
      "settle needs it closing or disputed",
    );
  });

  test("the client closes only after expiry; the provider still claims in the window; anyone settles after it", async () => {
    const { provider, alice, bob, escrow } = world;
    const budget = 10n ** 20n;
    const { key, session } = await openSession(budget, 60n);
    const close = { method: "close_session", args: { session_id: session.id } };
    await expectRejected(alice, escrow, close, "before that only the provider closes it");
    await advancePast(world.worker, BigInt(session.expires_at));
    const closing = onlyEvent(await callOk(alice, escrow, close), "session_closing");
    expect(closing).toMatchObject({ status: "closing", closed_by: "client" });
    await expectRejected(
      bob,
      escrow,
      { method: "close_session", args: { session_id: session.id } },
      "close needs it open",
    );

    const paid = 11n * 10n ** 18n;
    await callOk(provider, escrow, claim(session.id, voucher(world, session.id, key, paid, 9n)));
    await expectRejected(
      bob,
      escrow,
      { method: "settle_session", args: { session_id: session.id } },
      "the dispute window is open until",
    );
    await advancePast(world.worker, BigInt(String(closing.dispute_deadline)));
    await expectRejected(
      provider,
      escrow,
      claim(session.id, voucher(world, session.id, key, budget, 10n)),
      "the dispute window closed",
    );
    const aliceBefore = await escrowBalance(world, alice);
    const settled = onlyEvent(
      await callOk(bob, escrow, { method: "settle_session", args: { session_id: session.id } }),
      "session_settled",
    );
    expect(settled).toMatchObject({ settled_by: "dispute_window", claimed: paid.toString() });
    expect(await escrowBalance(world, alice)).toBe(aliceBefore + budget - paid);
  });

  test("a client's voucher on close and a stranger's close are refused", async () => {
    const { key, session } = await openSession();
    await expectRejected(
      world.bob,
      world.escrow,
      { method: "close_session", args: { session_id: session.id } },
      `only session ${session.id}'s provider, client or payer may close it`,
    );
    await expectRejected(
      world.alice,
      world.escrow,
      {
        method: "close_session",
        args: { session_id: session.id, voucher: voucher(world, session.id, key, 1n, 1n) },
      },
      "voucher: only the provider closes with a voucher",
    );
  });
});

describe("disputes", () => {
  async function closedByProvider(
    paid: bigint,
  ): Promise<{ key: SessionKey; session: SessionView }> {
    const { key, session } = await openSession(10n ** 20n);
    await callOk(world.provider, world.escrow, {
      method: "close_session",
      args: { session_id: session.id, voucher: voucher(world, session.id, key, paid, 1n) },
    });
    return { key, session };
  }

  test("the client disputes in the window; the arbiter alone splits the budget", async () => {
    const { alice, arbiter, provider, treasury, escrow } = world;
    const { session } = await closedByProvider(9n * 10n ** 19n);
    await expectRejected(
      provider,
      escrow,
      { method: "dispute_session", args: { session_id: session.id, reason: "overcharged" } },
      "only session",
    );
    onlyEvent(
      await callOk(alice, escrow, {
        method: "dispute_session",
        args: { session_id: session.id, reason: "claimed more than the receipts" },
      }),
      "session_disputed",
    );
    await expectRejected(
      alice,
      escrow,
      { method: "resolve_session", args: { session_id: session.id, provider_amount: "0" } },
      "only the arbiter",
    );
    await expectRejected(
      arbiter,
      escrow,
      {
        method: "resolve_session",
        args: { session_id: session.id, provider_amount: (10n ** 20n + 1n).toString() },
      },
      "is more than session",
    );
    const paid = 2n * 10n ** 19n;
    const fee = (paid * FEE_BPS) / 10_000n;
    const before = {
      provider: await escrowBalance(world, provider),
      treasury: await escrowBalance(world, treasury),
      alice: await escrowBalance(world, alice),
    };
    const resolved = onlyEvent(
      await callOk(arbiter, escrow, {
        method: "resolve_session",
        args: {
          session_id: session.id,
          provider_amount: paid.toString(),
          note: "two requests served",
        },
      }),
      "session_resolved",
    );
    expect(resolved).toMatchObject({
      status: "resolved",
      provider_payout: (paid - fee).toString(),
    });
    expect(await escrowBalance(world, provider)).toBe(before.provider + paid - fee);
    expect(await escrowBalance(world, treasury)).toBe(before.treasury + fee);
    expect(await escrowBalance(world, alice)).toBe(before.alice + 10n ** 20n - paid);
    onlyEvent(
      await callOk(arbiter, escrow, {
        method: "request_session_slash",
        args: { session_id: session.id, reason: "overcharging" },
      }),
      "session_slash_requested",
    );
  });

  test("an unresolved dispute settles with the last voucher after the arbitration window", async () => {
    const { alice, bob, escrow } = world;
    const paid = 5n * 10n ** 19n;
    const { session } = await closedByProvider(paid);
    await callOk(alice, escrow, {
      method: "dispute_session",
      args: { session_id: session.id, reason: "slow" },
    });
    const disputed = await sessionOf(world, session.id);
    await expectRejected(
      bob,
      escrow,
      { method: "settle_session", args: { session_id: session.id } },
      "the arbiter has until",
    );
    await advancePast(world.worker, BigInt(disputed.arbitration_deadline ?? "0"));
    const settled = onlyEvent(
      await callOk(bob, escrow, { method: "settle_session", args: { session_id: session.id } }),
      "session_settled",
    );
    expect(settled).toMatchObject({ settled_by: "arbitration_timeout", claimed: paid.toString() });
  });
});

describe("NEP-145 storage", () => {
  test("the flat session fee covers the largest session with 64-character account ids", async () => {
    const { root, registry, escrow, gov, arbiter } = world;
    const long = (prefix: string) =>
      root.createSubAccount(prefix.padEnd(64 - ".test.near".length, "y"), {
        initialBalance: 100n * ONE_NEAR,
      });
    const provider = await long("provider");
    const client = await long("client");
    const treasury = await long("treasury");
    await callOk(provider, registry, {
      method: "register_provider",
      args: { name: "Long", endpoint: "https://gpu.example.com", region: "eu-west-1" },
      deposit: 3n * ONE_NEAR,
    });
    const machine = await addDevMachine(registry, provider);
    await callOk(gov, escrow, { method: "set_treasury", args: { treasury: treasury.accountId } });
    await callOk(client, escrow, { method: "storage_deposit", args: {}, deposit: ONE_NEAR });
    const before = BigInt((await escrow.accountView()).storage_usage);
    const key = newSessionKey();
    const budget = 10n ** 25n;
    const session = openedSession(
      await callRaw(client, escrow, {
        method: "open_session",
        args: sessionFields(machine, key),
        deposit: budget,
        gas: MAX_GAS,
      }),
    );
    await callOk(provider, escrow, {
      method: "close_session",
      args: {
        session_id: session.id,
        voucher: voucher(world, session.id, key, budget, (1n << 64n) - 1n),
      },
    });
    await callOk(client, escrow, {
      method: "dispute_session",
      args: { session_id: session.id, reason: "r".repeat(512) },
    });
    await callOk(arbiter, escrow, {
      method: "resolve_session",
      args: {
        session_id: session.id,
        provider_amount: (budget / 3n).toString(),
        note: "n".repeat(512),
      },
    });
    const added = BigInt((await escrow.accountView()).storage_usage) - before;
    expect(added * BYTE_COST).toBeLessThanOrEqual(SESSION_STORAGE_FEE);
    await callOk(gov, escrow, {
      method: "set_treasury",
      args: { treasury: world.treasury.accountId },
    });
  });
});
