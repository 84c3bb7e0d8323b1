/**
 * Escrow jobs paid in NEAR: the full lifecycle down to withdrawals, every timeout path, wrong
 * callers, the delivery receipt (every field tampered, forged, replayed and wrong-job signatures),
 * the provider's signed failure, usage above the maximum, double settlement and the paginated views.
 */
import { KeyPair } from "near-workspaces";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  acceptAndDeliver,
  advancePast,
  balanceOf,
  callOk,
  createNearJob,
  deliverArgs,
  escrowBalance,
  expectRejected,
  failArgs,
  failureDigest,
  JOB_STORAGE_FEE,
  type JobView,
  jobOf,
  ONE_NEAR,
  onlyEvent,
  PRICE,
  RESPONSE_HASH,
  type Receipt,
  receiptDigest,
  receiptFor,
  setupWorld,
  sign,
  totalsOf,
  U64_MAX,
  type World,
  withdrawCall,
} from "./helpers.ts";

const GAS_FEE_BOUND = ONE_NEAR / 100n;

let world: World;

beforeAll(async () => {
  world = await setupWorld();
});

afterAll(async () => {
  await world?.worker.tearDown();
});

const job = (id: string): Promise<JobView> => jobOf(world, id);

describe("full lifecycle in NEAR", () => {
  test("create, accept, deliver, settle after the window by anyone, withdraw", async () => {
    const { alice, bob, provider, treasury, escrow } = world;
    const storageBefore = (await escrow.view("storage_balance_of", {
      account_id: alice.accountId,
    })) as { total: string };
    const usageBefore = BigInt((await escrow.accountView()).storage_usage);
    const created = await createNearJob(world, alice, ONE_NEAR);
    expect(created).toMatchObject({
      client: alice.accountId,
      payer: alice.accountId,
      provider: provider.accountId,
      machine_id: world.machine.id,
      machine_public_key: world.machine.publicKey,
      price_per_unit: PRICE.toString(),
      fee_bps: 250,
      keyset_sha256: world.machine.keysetSha256,
      encryption_key: world.machine.encryptionKey,
      asset: "NEAR",
      max_amount: ONE_NEAR.toString(),
      status: "requested",
      model_name: null,
      failure_code: null,
    });
    const storageAfter = (await escrow.view("storage_balance_of", {
      account_id: alice.accountId,
    })) as { total: string };
    expect(BigInt(storageBefore.total) - BigInt(storageAfter.total)).toBe(JOB_STORAGE_FEE);
    expect((await totalsOf(world, "NEAR")).escrowed).toBe(ONE_NEAR.toString());

    const accepted = onlyEvent(
      await callOk(provider, escrow, { method: "accept_job", args: { job_id: created.id } }),
      "job_accepted",
    );
    expect(accepted.status).toBe("accepted");
    const usage = 3n * 10n ** 18n;
    const delivered = onlyEvent(
      await callOk(provider, escrow, {
        method: "deliver_job",
        args: deliverArgs(world, created.id, usage),
      }),
      "job_delivered",
    );
    const due = usage * PRICE;
    expect(delivered).toMatchObject({
      status: "delivered",
      usage: usage.toString(),
      amount_due: due.toString(),
      result_hash: RESPONSE_HASH,
      model_name: world.machine.models[0]?.name,
      prompt_tokens: (usage / 2n).toString(),
      completion_tokens: (usage / 2n).toString(),
      chunks: "3",
    });

    await expectRejected(
      bob,
      escrow,
      { method: "settle_job", args: { job_id: created.id } },
      "the dispute window is open",
    );
    await advancePast(world.worker, BigInt((await job(created.id)).dispute_deadline ?? "0"));
    const settled = onlyEvent(
      await callOk(bob, escrow, { method: "settle_job", args: { job_id: created.id } }),
      "job_settled",
    );
    const fee = (due * 250n) / 10_000n;
    expect(settled).toMatchObject({
      status: "settled",
      settled_by: "dispute_window",
      provider_payout: (due - fee).toString(),
      fee: fee.toString(),
      client_refund: (ONE_NEAR - due).toString(),
    });
    // The flat job fee covers everything the job added: its record, indexes and three new balances.
    const added = BigInt((await escrow.accountView()).storage_usage) - usageBefore;
    expect(added * 10n ** 19n).toBeLessThanOrEqual(JOB_STORAGE_FEE);
    expect(await escrowBalance(world, provider)).toBe(due - fee);
    expect(await escrowBalance(world, treasury)).toBe(fee);
    expect(await escrowBalance(world, alice)).toBe(ONE_NEAR - due);
    expect(await totalsOf(world, "NEAR")).toEqual({
      asset: "NEAR",
      escrowed: "0",
      credited: ONE_NEAR.toString(),
    });

    // Double settlement and late changes are refused.
    await expectRejected(
      bob,
      escrow,
      { method: "settle_job", args: { job_id: created.id } },
      "is settled; settle needs it delivered or disputed",
    );
    await expectRejected(
      alice,
      escrow,
      { method: "confirm_job", args: { job_id: created.id } },
      "is settled",
    );

    for (const [account, amount] of [
      [provider, due - fee],
      [treasury, fee],
      [alice, ONE_NEAR - due],
    ] as const) {
      const before = await balanceOf(account);
      const result = await callOk(account, escrow, withdrawCall("NEAR"));
      const event = onlyEvent(result, "withdraw");
      expect(event).toMatchObject({ withdrawn: amount.toString(), amount: "0" });
      const gained = (await balanceOf(account)) - before;
      expect(gained).toBeLessThanOrEqual(amount);
      expect(gained).toBeGreaterThan(amount - GAS_FEE_BOUND);
      expect(await escrowBalance(world, account)).toBe(0n);
    }
    expect((await totalsOf(world, "NEAR")).credited).toBe("0");
    await expectRejected(alice, escrow, withdrawCall("NEAR"), "nothing to withdraw");
  });

  test("the client confirms early; usage above the maximum is capped at it", async () => {
    const { alice, escrow } = world;
    // The most a receipt can report (two u64 counts) at this price is above 10^22.
    const max = 10n ** 22n;
    const created = await createNearJob(world, alice, max);
    const delivered = await acceptAndDeliver(world, created.id, 2n * U64_MAX);
    expect(delivered.usage).toBe((2n * U64_MAX).toString());
    expect(delivered.amount_due).toBe(max.toString());
    await expectRejected(
      world.bob,
      escrow,
      { method: "confirm_job", args: { job_id: created.id } },
      "only the job's client or payer",
    );
    const settled = onlyEvent(
      await callOk(alice, escrow, { method: "confirm_job", args: { job_id: created.id } }),
      "job_settled",
    );
    const fee = (max * 250n) / 10_000n;
    expect(settled).toMatchObject({
      settled_by: "client",
      provider_payout: (max - fee).toString(),
      fee: fee.toString(),
      client_refund: "0",
    });
  });
});

describe("cancel and timeouts", () => {
  test("the client cancels before acceptance and gets everything back", async () => {
    const { alice, bob, provider, escrow } = world;
    const created = await createNearJob(world, alice, ONE_NEAR);
    const before = await escrowBalance(world, alice);
    await expectRejected(
      bob,
      escrow,
      { method: "cancel_job", args: { job_id: created.id } },
      "only the job's client or payer",
    );
    const cancelled = onlyEvent(
      await callOk(alice, escrow, { method: "cancel_job", args: { job_id: created.id } }),
      "job_cancelled",
    );
    expect(cancelled).toMatchObject({
      status: "refunded",
      refund_reason: "cancelled",
      client_refund: ONE_NEAR.toString(),
      provider_payout: "0",
      fee: "0",
    });
    expect((await escrowBalance(world, alice)) - before).toBe(ONE_NEAR);
    await expectRejected(
      provider,
      escrow,
      { method: "accept_job", args: { job_id: created.id } },
      "is refunded; accept needs it requested",
    );
  });

  test("no cancel after acceptance", async () => {
    const created = await createNearJob(world, world.alice, ONE_NEAR);
    await callOk(world.provider, world.escrow, {
      method: "accept_job",
      args: { job_id: created.id },
    });
    await expectRejected(
      world.alice,
      world.escrow,
      { method: "cancel_job", args: { job_id: created.id } },
      "is accepted; cancel needs it requested",
    );
  });

  test("accept timeout: reclaim only after the deadline, and then no accept", async () => {
    const { alice, provider, escrow } = world;
    const created = await createNearJob(world, alice, ONE_NEAR, {
      accept_within_ns: (3n * 10n ** 9n).toString(),
    });
    await expectRejected(
      alice,
      escrow,
      { method: "reclaim_job", args: { job_id: created.id } },
      `the provider may accept job ${created.id} until`,
    );
    await advancePast(world.worker, BigInt(created.accept_deadline));
    await expectRejected(
      provider,
      escrow,
      { method: "accept_job", args: { job_id: created.id } },
      "the accept deadline",
    );
    const before = await escrowBalance(world, alice);
    const reclaimed = onlyEvent(
      await callOk(alice, escrow, { method: "reclaim_job", args: { job_id: created.id } }),
      "job_reclaimed",
    );
    expect(reclaimed).toMatchObject({ status: "refunded", refund_reason: "accept_timeout" });
    expect((await escrowBalance(world, alice)) - before).toBe(ONE_NEAR);
  });

  test("deliver timeout: no delivery after the deadline, the client reclaims", async () => {
    const { alice, provider, escrow } = world;
    const created = await createNearJob(world, alice, ONE_NEAR, {
      deliver_within_ns: (3n * 10n ** 9n).toString(),
    });
    await callOk(provider, escrow, { method: "accept_job", args: { job_id: created.id } });
    await expectRejected(
      alice,
      escrow,
      { method: "reclaim_job", args: { job_id: created.id } },
      `the provider may deliver job ${created.id} until`,
    );
    const accepted = await job(created.id);
    await advancePast(world.worker, BigInt(accepted.deliver_deadline ?? "0"));
    await expectRejected(
      provider,
      escrow,
      { method: "deliver_job", args: deliverArgs(world, created.id, 1n) },
      "the deliver deadline",
    );
    const reclaimed = onlyEvent(
      await callOk(alice, escrow, { method: "reclaim_job", args: { job_id: created.id } }),
      "job_reclaimed",
    );
    expect(reclaimed).toMatchObject({
      refund_reason: "deliver_timeout",
      client_refund: ONE_NEAR.toString(),
    });
  });

  test("a delivered job cannot be reclaimed", async () => {
    const created = await createNearJob(world, world.alice, ONE_NEAR);
    await acceptAndDeliver(world, created.id, 5n);
    await expectRejected(
      world.alice,
      world.escrow,
      { method: "reclaim_job", args: { job_id: created.id } },
      "is delivered; reclaim needs it requested or accepted",
    );
  });
});

describe("wrong callers and signatures", () => {
  let id: string;

  beforeAll(async () => {
    id = (await createNearJob(world, world.alice, ONE_NEAR)).id;
  });

  test("only the provider accepts and delivers", async () => {
    const { alice, escrow, provider } = world;
    await expectRejected(
      alice,
      escrow,
      { method: "accept_job", args: { job_id: id } },
      "only the job's provider",
    );
    await callOk(provider, escrow, { method: "accept_job", args: { job_id: id } });
    await expectRejected(
      alice,
      escrow,
      { method: "deliver_job", args: deliverArgs(world, id, 5n) },
      "only the job's provider",
    );
  });

  test("a signature by another key is refused", async () => {
    const forger = KeyPair.fromRandom("ed25519");
    const args = deliverArgs(world, id, 5n);
    args.signature = sign(forger, receiptDigest(world.escrow.accountId, id, args.receipt));
    await expectRejected(
      world.provider,
      world.escrow,
      { method: "deliver_job", args },
      "signature: not a signature by machine key",
    );
  });

  test("a receipt with any field changed after signing is refused, naming why", async () => {
    const { provider, escrow } = world;
    const signed = deliverArgs(world, id, 5n);
    const tampered: [Partial<Receipt>, string][] = [
      [{ model: "other-model" }, "signature: not a signature"],
      [{ weights_sha256: "ab".repeat(32) }, "receipt.weights_sha256: abab"],
      [{ request_sha256: "ab".repeat(32) }, "receipt.request_sha256: abab"],
      [{ response_sha256: "ab".repeat(32) }, "signature: not a signature"],
      [{ prompt_tokens: "3" }, "signature: not a signature"],
      [{ completion_tokens: "4" }, "signature: not a signature"],
      [{ chunks: "4" }, "signature: not a signature"],
    ];
    for (const [change, message] of tampered) {
      await expectRejected(
        provider,
        escrow,
        { method: "deliver_job", args: { ...signed, receipt: { ...signed.receipt, ...change } } },
        message,
      );
    }
    // Signed as they are, another model's weights or another request are still the wrong job's.
    await expectRejected(
      provider,
      escrow,
      {
        method: "deliver_job",
        args: deliverArgs(world, id, 5n, { weights_sha256: "ab".repeat(32) }),
      },
      `is not job ${id}'s model`,
    );
    await expectRejected(
      provider,
      escrow,
      {
        method: "deliver_job",
        args: deliverArgs(world, id, 5n, { request_sha256: "ab".repeat(32) }),
      },
      `is not job ${id}'s input hash`,
    );
  });

  test("a receipt signed for another job or another escrow is refused", async () => {
    const { provider, escrow, machine } = world;
    const receipt = receiptFor(world, 5n);
    const otherJob = {
      job_id: id,
      receipt,
      signature: sign(machine.keyPair, receiptDigest(escrow.accountId, "999", receipt)),
    };
    await expectRejected(
      provider,
      escrow,
      { method: "deliver_job", args: otherJob },
      "signature: not a signature",
    );
    const otherEscrow = {
      job_id: id,
      receipt,
      signature: sign(machine.keyPair, receiptDigest("other-escrow.test.near", id, receipt)),
    };
    await expectRejected(
      provider,
      escrow,
      { method: "deliver_job", args: otherEscrow },
      "signature: not a signature",
    );
  });

  test("malformed delivery arguments are named", async () => {
    const { provider, escrow } = world;
    const args = deliverArgs(world, id, 5n);
    const cases: [Record<string, unknown>, string][] = [
      [{ ...args, signature: "00".repeat(63) }, "signature: length must be 128"],
      [{ ...args, usage: "5" }, 'args: unknown field "usage"'],
      [{ ...args, receipt: { ...args.receipt, extra: "1" } }, 'receipt: unknown field "extra"'],
      [{ ...args, receipt: { ...args.receipt, model: "bad name" } }, "receipt.model:"],
      [{ ...args, receipt: { ...args.receipt, chunks: 3 } }, "receipt.chunks: expected a u64"],
      [
        { ...args, receipt: { ...args.receipt, prompt_tokens: "18446744073709551616" } },
        "receipt.prompt_tokens: 18446744073709551616 does not fit in u64",
      ],
      [
        { ...args, receipt: { ...args.receipt, response_sha256: "CC".repeat(32) } },
        "receipt.response_sha256: expected lowercase hex",
      ],
      [{ job_id: id, signature: args.signature }, "receipt: expected an object"],
    ];
    for (const [bad, message] of cases) {
      await expectRejected(provider, escrow, { method: "deliver_job", args: bad }, message);
    }
  });

  test("a valid receipt delivers once; replaying it, or it on another job, is refused", async () => {
    const { provider, escrow, alice } = world;
    const args = deliverArgs(world, id, 5n);
    onlyEvent(await callOk(provider, escrow, { method: "deliver_job", args }), "job_delivered");
    await expectRejected(
      provider,
      escrow,
      { method: "deliver_job", args },
      "is delivered; deliver needs it accepted",
    );
    const other = await createNearJob(world, alice, ONE_NEAR);
    await callOk(provider, escrow, { method: "accept_job", args: { job_id: other.id } });
    await expectRejected(
      provider,
      escrow,
      { method: "deliver_job", args: { ...args, job_id: other.id } },
      "signature: not a signature",
    );
  });
});

describe("payment for a delivered receipt", () => {
  test("pays min(max, usage x price) less the fee and refunds the rest", async () => {
    const { alice, provider, treasury, escrow, machine } = world;
    // max amount, prompt and completion tokens, the amount due at 1000 per token (capped last)
    for (const [max, prompt, completion, due] of [
      [ONE_NEAR, 1_234n, 56_789n, 58_023_000n],
      [60_000n, 20n, 31n, 51_000n],
      [50_000n, 40n, 11n, 50_000n],
    ] as const) {
      const created = await createNearJob(world, alice, max);
      await callOk(provider, escrow, { method: "accept_job", args: { job_id: created.id } });
      const receipt = receiptFor(world, 0n, {
        prompt_tokens: prompt.toString(),
        completion_tokens: completion.toString(),
      });
      const signature = sign(machine.keyPair, receiptDigest(escrow.accountId, created.id, receipt));
      const before = await Promise.all(
        [provider, treasury, alice].map((a) => escrowBalance(world, a)),
      );
      await callOk(provider, escrow, {
        method: "deliver_job",
        args: { job_id: created.id, receipt, signature },
      });
      const settled = onlyEvent(
        await callOk(alice, escrow, { method: "confirm_job", args: { job_id: created.id } }),
        "job_settled",
      );
      const usage = prompt + completion;
      const fee = (due * 250n) / 10_000n;
      expect(settled).toMatchObject({
        usage: usage.toString(),
        amount_due: due.toString(),
        provider_payout: (due - fee).toString(),
        fee: fee.toString(),
        client_refund: (max - due).toString(),
      });
      const after = await Promise.all(
        [provider, treasury, alice].map((a) => escrowBalance(world, a)),
      );
      expect(after.map((b, i) => b - (before[i] ?? 0n))).toEqual([due - fee, fee, max - due]);
    }
  });
});

describe("fail_job", () => {
  test("from requested or accepted, the payer gets everything back at once", async () => {
    const { alice, provider, treasury, escrow } = world;
    for (const accept of [false, true]) {
      const created = await createNearJob(world, alice, ONE_NEAR);
      if (accept) {
        await callOk(provider, escrow, { method: "accept_job", args: { job_id: created.id } });
      }
      const before = await Promise.all(
        [provider, treasury, alice].map((a) => escrowBalance(world, a)),
      );
      const escrowedBefore = BigInt((await totalsOf(world, "NEAR")).escrowed);
      const failed = onlyEvent(
        await callOk(provider, escrow, {
          method: "fail_job",
          args: failArgs(world, created.id, "model_unavailable"),
        }),
        "job_failed",
      );
      expect(failed).toMatchObject({
        status: "refunded",
        refund_reason: "provider_failed",
        failure_code: "model_unavailable",
        provider_payout: "0",
        fee: "0",
        client_refund: ONE_NEAR.toString(),
      });
      const after = await Promise.all(
        [provider, treasury, alice].map((a) => escrowBalance(world, a)),
      );
      expect(after.map((b, i) => b - (before[i] ?? 0n))).toEqual([0n, 0n, ONE_NEAR]);
      expect(escrowedBefore - BigInt((await totalsOf(world, "NEAR")).escrowed)).toBe(ONE_NEAR);
      expect(await job(created.id)).toMatchObject({
        status: "refunded",
        failure_code: "model_unavailable",
      });
      await expectRejected(
        provider,
        escrow,
        { method: "fail_job", args: failArgs(world, created.id) },
        "is refunded; fail needs it requested or accepted",
      );
    }
  });

  test("refused from anyone but the provider, for a delivered job, or without the machine's signature", async () => {
    const { alice, provider, escrow, machine } = world;
    const created = await createNearJob(world, alice, ONE_NEAR);
    await expectRejected(
      alice,
      escrow,
      { method: "fail_job", args: failArgs(world, created.id) },
      "only the job's provider",
    );
    const forger = KeyPair.fromRandom("ed25519");
    const cases: [Record<string, unknown>, string][] = [
      [
        {
          ...failArgs(world, created.id),
          signature: sign(forger, failureDigest(escrow.accountId, created.id, "capacity")),
          code: "capacity",
        },
        "signature: not a signature by machine key",
      ],
      [
        { ...failArgs(world, created.id, "capacity"), code: "bad_request" },
        "signature: not a signature",
      ],
      [
        {
          job_id: created.id,
          code: "capacity",
          signature: sign(machine.keyPair, failureDigest(escrow.accountId, "999", "capacity")),
        },
        "signature: not a signature",
      ],
      [
        {
          job_id: created.id,
          code: "capacity",
          signature: sign(
            machine.keyPair,
            failureDigest("other.test.near", created.id, "capacity"),
          ),
        },
        "signature: not a signature",
      ],
      [
        { ...failArgs(world, created.id), code: "tired" },
        "code: expected one of model_unavailable",
      ],
      [{ ...failArgs(world, created.id), reason: "x" }, 'args: unknown field "reason"'],
    ];
    for (const [args, message] of cases) {
      await expectRejected(provider, escrow, { method: "fail_job", args }, message);
    }
    await acceptAndDeliver(world, created.id, 5n);
    await expectRejected(
      provider,
      escrow,
      { method: "fail_job", args: failArgs(world, created.id) },
      "is delivered; fail needs it requested or accepted",
    );
  });
});

describe("views", () => {
  test("jobs by client, provider, machine and status, paginated", async () => {
    const { escrow, alice, provider } = world;
    const all = (await escrow.view("jobs", { from_index: 0, limit: 50 })) as JobView[];
    expect(all.map((j) => j.id)).toEqual(all.map((_, i) => String(i)));
    const byClient = (await escrow.view("jobs_by_client", {
      account_id: alice.accountId,
    })) as JobView[];
    expect(byClient.length).toBe(all.length);
    const byProvider = (await escrow.view("jobs_by_provider", {
      account_id: provider.accountId,
    })) as JobView[];
    expect(byProvider.length).toBe(all.length);
    const byMachine = (await escrow.view("jobs_by_machine", {
      machine_id: world.machine.id,
    })) as JobView[];
    expect(byMachine.length).toBe(all.length);
    const page = (await escrow.view("jobs_by_client", {
      account_id: alice.accountId,
      from_index: 1,
      limit: 2,
    })) as JobView[];
    expect(page.map((j) => j.id)).toEqual(byClient.slice(1, 3).map((j) => j.id));
    for (const status of ["requested", "accepted", "delivered", "settled", "refunded"]) {
      const jobs = (await escrow.view("jobs_by_status", { status })) as JobView[];
      expect(jobs.every((j) => j.status === status)).toBe(true);
      expect(jobs.length).toBe(all.filter((j) => j.status === status).length);
    }
    await expect(escrow.view("jobs", { limit: 51 })).rejects.toThrow(
      /limit: must be between 1 and 50/,
    );
    await expect(escrow.view("jobs_by_status", { status: "lost" })).rejects.toThrow(
      /status: expected one of/,
    );
    expect(await escrow.view("job", { job_id: "100000" })).toBeNull();
  });
});
