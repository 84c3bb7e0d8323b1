/**
 * The proposal lifecycle: thresholds and quorum at their edges, double voting by moving tokens,
 * voting windows, cancellation, expiry, the timelock, parameter changes reaching the registry and
 * the escrow, treasury transfers and config changes.
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
  advanceTo,
  type Dao,
  delegate,
  endVoting,
  eventNames,
  execute,
  height,
  PROPOSAL_DEPOSIT,
  pass,
  proposal,
  propose,
  queueAndWait,
  STORAGE_DEPOSIT,
  setupDao,
  startVoting,
  TOKEN,
  VOTE_DEPOSIT,
  vote,
} from "./helpers.ts";

let dao: Dao;

const devMode = (enabled: boolean) => ({
  kind: "function_call",
  target: dao.registry.accountId,
  method: "set_dev_mode",
  args: { enabled },
});

function transferTokens(from: Dao["alice"], to: Dao["alice"], amount: bigint) {
  return callOk(from, dao.gov, {
    method: "ft_transfer",
    args: { receiver_id: to.accountId, amount: amount.toString() },
    deposit: 1n,
  });
}

beforeAll(async () => {
  dao = await setupDao();
  for (const holder of [dao.alice, dao.bob, dao.carol]) {
    await delegate(dao, holder, holder);
  }
  // dave gets exactly the proposal threshold (50 tokens) and votes with it.
  await callOk(dao.dave, dao.gov, {
    method: "storage_deposit",
    args: {},
    deposit: STORAGE_DEPOSIT,
  });
  await transferTokens(dao.alice, dao.dave, 50n * TOKEN);
  await delegate(dao, dao.dave, dao.dave);
});

afterAll(async () => {
  await dao?.worker.tearDown();
});

describe("proposal threshold", () => {
  test("a proposer needs at least the threshold of voting power", async () => {
    expect(await dao.gov.view("get_votes", { account_id: dao.dave.accountId })).toBe(
      (50n * TOKEN).toString(),
    );
    await propose(dao, dao.dave, [devMode(true)]);
    await transferTokens(dao.dave, dao.alice, 1n);
    await expectRejected(
      dao.dave,
      dao.gov,
      {
        method: "propose",
        args: { description: "x", actions: [devMode(true)] },
        deposit: PROPOSAL_DEPOSIT,
      },
      `${dao.dave.accountId} has ${50n * TOKEN - 1n} votes, less than the proposal threshold of ${50n * TOKEN}`,
    );
    await transferTokens(dao.alice, dao.dave, 1n);
    // guardian holds nothing at all.
    await expectRejected(
      dao.guardian,
      dao.gov,
      {
        method: "propose",
        args: { description: "x", actions: [devMode(true)] },
        deposit: PROPOSAL_DEPOSIT,
      },
      "less than the proposal threshold",
    );
  });

  test("actions are validated when proposed", async () => {
    const bad: [unknown, string][] = [
      [[], "actions: expected 1 to 10 entries, got 0"],
      [
        [{ ...devMode(true), target: dao.usdc.accountId }],
        `actions[0].target: ${dao.usdc.accountId} is not a governed contract`,
      ],
      [[{ ...devMode(true), method: "migrate" }], "actions[0].method: migrate is reserved"],
      [
        [{ kind: "upgrade", target: dao.registry.accountId, code_sha256: "ab".repeat(32) }],
        `no blob with sha256 ${"ab".repeat(32)} is stored`,
      ],
      [
        [{ kind: "transfer", receiver: dao.dave.accountId, amount: "0" }],
        "actions[0].amount: must be greater than 0",
      ],
      [
        [{ kind: "config", config: { quorum_bps: 0 } }],
        "actions[0].config.quorum_bps: must be between 1 and 10000",
      ],
      [[{ kind: "config", config: { nope: 1 } }], 'actions[0].config: unknown field "nope"'],
      [[{ kind: "mint" }], "actions[0].kind: expected one of"],
    ];
    for (const [actions, message] of bad) {
      await expectRejected(
        dao.alice,
        dao.gov,
        { method: "propose", args: { description: "bad", actions }, deposit: PROPOSAL_DEPOSIT },
        message,
      );
    }
  });
});

describe("quorum and majority", () => {
  // Quorum: 20% of 1000 tokens = 200. carol holds exactly 200, dave 50, bob 300, alice 350.
  test("for votes exactly at quorum succeed; below it the proposal is defeated", async () => {
    const atQuorum = await propose(dao, dao.carol, [devMode(true)]);
    const below = await propose(dao, dao.carol, [devMode(true)]);
    const withAbstain = await propose(dao, dao.carol, [devMode(true)]);
    const outvoted = await propose(dao, dao.carol, [devMode(true)]);
    await startVoting(dao, outvoted);
    await vote(dao, dao.carol, atQuorum, "for");
    await vote(dao, dao.dave, below, "for");
    await vote(dao, dao.carol, withAbstain, "abstain");
    await vote(dao, dao.dave, withAbstain, "for");
    await vote(dao, dao.carol, outvoted, "for");
    await vote(dao, dao.bob, outvoted, "against");
    expect((await proposal(dao, atQuorum)).status).toBe("active");
    await endVoting(dao, outvoted);
    expect((await proposal(dao, atQuorum)).status).toBe("succeeded");
    expect((await proposal(dao, below)).status).toBe("defeated");
    expect((await proposal(dao, withAbstain)).status).toBe("succeeded");
    expect((await proposal(dao, outvoted)).status).toBe("defeated");
    await expectRejected(
      dao.alice,
      dao.gov,
      { method: "queue", args: { proposal_id: below } },
      `proposal ${below} is defeated: only a succeeded proposal can be queued`,
    );
  });

  test("abstain alone reaches quorum but not a majority", async () => {
    const id = await propose(dao, dao.carol, [devMode(true)]);
    await startVoting(dao, id);
    await vote(dao, dao.carol, id, "abstain");
    await endVoting(dao, id);
    expect(await proposal(dao, id)).toMatchObject({
      status: "defeated",
      votes_abstain: (200n * TOKEN).toString(),
    });
  });
});

describe("voting", () => {
  test("moving tokens after the snapshot neither adds votes nor allows a second vote", async () => {
    const id = await propose(dao, dao.alice, [devMode(true)]);
    const { snapshot_height: snapshot } = await proposal(dao, id);
    await startVoting(dao, id);
    await vote(dao, dao.alice, id, "for");
    // alice moves 100 tokens to dave, who already delegates to himself.
    await transferTokens(dao.alice, dao.dave, 100n * TOKEN);
    expect(await dao.gov.view("get_votes", { account_id: dao.dave.accountId })).toBe(
      (150n * TOKEN).toString(),
    );
    const daveVote = await vote(dao, dao.dave, id, "for");
    expect(daveVote.parseResult<{ weight: string }>().weight).toBe((50n * TOKEN).toString());
    await expectRejected(
      dao.alice,
      dao.gov,
      { method: "vote", args: { proposal_id: id, support: "against" }, deposit: VOTE_DEPOSIT },
      `${dao.alice.accountId} has already voted on proposal ${id}`,
    );
    // bob redelegates to carol after the snapshot: carol still votes with her snapshot power.
    await delegate(dao, dao.bob, dao.carol);
    const carolVote = await vote(dao, dao.carol, id, "against");
    expect(carolVote.parseResult<{ weight: string }>().weight).toBe((200n * TOKEN).toString());
    // bob still votes with the 300 he had at the snapshot: counted once, for bob alone.
    const bobVote = await vote(dao, dao.bob, id, "abstain");
    expect(bobVote.parseResult<{ weight: string }>().weight).toBe((300n * TOKEN).toString());
    expect(
      await dao.gov.view("get_past_votes", {
        account_id: dao.bob.accountId,
        block_height: snapshot,
      }),
    ).toBe((300n * TOKEN).toString());
    expect(
      await dao.gov.view("get_vote", { proposal_id: id, account_id: dao.dave.accountId }),
    ).toMatchObject({
      support: "for",
      weight: (50n * TOKEN).toString(),
    });
    expect(await proposal(dao, id)).toMatchObject({
      votes_for: (400n * TOKEN).toString(),
      votes_against: (200n * TOKEN).toString(),
      votes_abstain: (300n * TOKEN).toString(),
    });
    // Give the power back as it was for the suites below.
    await delegate(dao, dao.bob, dao.bob);
    await transferTokens(dao.dave, dao.alice, 100n * TOKEN);
  });

  test("votes before the start and after the end are rejected", async () => {
    const id = await propose(dao, dao.alice, [devMode(true)]);
    const { snapshot_height: snapshot, vote_end_height: end } = await proposal(dao, id);
    await expectRejected(
      dao.alice,
      dao.gov,
      { method: "vote", args: { proposal_id: id, support: "for" }, deposit: VOTE_DEPOSIT },
      `proposal ${id} is pending: votes are accepted from height ${snapshot + 1} to ${end}`,
    );
    await endVoting(dao, id);
    await expectRejected(
      dao.alice,
      dao.gov,
      { method: "vote", args: { proposal_id: id, support: "for" }, deposit: VOTE_DEPOSIT },
      `proposal ${id} is defeated: votes are accepted from height ${snapshot + 1} to ${end}`,
    );
    await expectRejected(
      dao.alice,
      dao.gov,
      { method: "vote", args: { proposal_id: id, support: "yes" }, deposit: VOTE_DEPOSIT },
      "support: expected one of for, against, abstain",
    );
    await expectRejected(
      dao.alice,
      dao.gov,
      { method: "vote", args: { proposal_id: 999, support: "for" }, deposit: VOTE_DEPOSIT },
      "proposal_id: proposal 999 does not exist",
    );
  });
});

describe("cancel, timelock and expiry", () => {
  test("the proposer cancels only while pending; others never", async () => {
    const id = await propose(dao, dao.alice, [devMode(true)]);
    await expectRejected(
      dao.bob,
      dao.gov,
      { method: "cancel", args: { proposal_id: id } },
      `only the proposer (${dao.alice.accountId}) or the guardian may cancel proposal ${id}`,
    );
    const result = await callOk(dao.alice, dao.gov, {
      method: "cancel",
      args: { proposal_id: id },
    });
    expect(eventNames(result)).toEqual(["proposal_canceled"]);
    expect((await proposal(dao, id)).status).toBe("canceled");

    const active = await propose(dao, dao.alice, [devMode(true)]);
    await startVoting(dao, active);
    await expectRejected(
      dao.alice,
      dao.gov,
      { method: "cancel", args: { proposal_id: active } },
      `proposal ${active} is active: its proposer may cancel it only while pending`,
    );
    await callOk(dao.guardian, dao.gov, { method: "cancel", args: { proposal_id: active } });
    await expectRejected(
      dao.alice,
      dao.gov,
      { method: "vote", args: { proposal_id: active, support: "for" }, deposit: VOTE_DEPOSIT },
      `proposal ${active} is canceled`,
    );
  });

  test("the guardian cancels a queued proposal; the timelock holds execution back", async () => {
    const id = await propose(dao, dao.alice, [devMode(true)]);
    await startVoting(dao, id);
    await vote(dao, dao.alice, id, "for");
    await endVoting(dao, id);
    await callOk(dao.bob, dao.gov, { method: "queue", args: { proposal_id: id } });
    const queued = await proposal(dao, id);
    await expectRejected(
      dao.bob,
      dao.gov,
      { method: "execute", args: { proposal_id: id }, gas: 300n * TGAS },
      `proposal ${id} is timelocked until height ${queued.eta_height}`,
    );
    await callOk(dao.guardian, dao.gov, { method: "cancel", args: { proposal_id: id } });
    await advanceTo(dao.worker, queued.eta_height ?? 0);
    await expectRejected(
      dao.bob,
      dao.gov,
      { method: "execute", args: { proposal_id: id }, gas: 300n * TGAS },
      `proposal ${id} is canceled`,
    );
    expect(await dao.registry.view("registry_info", {})).toMatchObject({ dev_mode: false });
  });

  test("a succeeded proposal not queued in time, or queued and not executed in time, expires", async () => {
    const unqueued = await propose(dao, dao.alice, [devMode(true)]);
    const unexecuted = await propose(dao, dao.alice, [devMode(true)]);
    await startVoting(dao, unexecuted);
    await vote(dao, dao.alice, unqueued, "for");
    await vote(dao, dao.alice, unexecuted, "for");
    await endVoting(dao, unexecuted);
    await queueAndWait(dao, unexecuted);
    const late = await proposal(dao, unexecuted);
    await advanceTo(dao.worker, late.expires_height + 1);
    expect((await proposal(dao, unqueued)).status).toBe("expired");
    expect((await proposal(dao, unexecuted)).status).toBe("expired");
    await expectRejected(
      dao.alice,
      dao.gov,
      { method: "queue", args: { proposal_id: unqueued } },
      `proposal ${unqueued} is expired`,
    );
    await expectRejected(
      dao.alice,
      dao.gov,
      { method: "execute", args: { proposal_id: unexecuted }, gas: 300n * TGAS },
      `proposal ${unexecuted} is expired`,
    );
    await expectRejected(
      dao.guardian,
      dao.gov,
      { method: "cancel", args: { proposal_id: unexecuted } },
      `proposal ${unexecuted} is expired: it can no longer be canceled`,
    );
  });
});

describe("execution", () => {
  test("parameter changes reach the registry and the escrow in one execution", async () => {
    const id = await propose(dao, dao.bob, [
      {
        kind: "function_call",
        target: dao.registry.accountId,
        method: "set_params",
        args: { params: { max_evidence_bytes: 12345 } },
      },
      {
        kind: "function_call",
        target: dao.escrow.accountId,
        method: "set_params",
        args: { params: { fee_bps: 250 } },
        gas_tgas: 30,
      },
    ]);
    await pass(dao, id, [dao.alice, dao.bob]);
    const result = await execute(dao, dao.dave, id);
    expect(result.failed, result.receiptFailureMessages.join("\n")).toBe(false);
    expect(eventNames(result)).toEqual([
      "proposal_action_started",
      "params_updated",
      "proposal_action_executed",
      "proposal_action_started",
      "params_updated",
      "proposal_action_executed",
      "proposal_executed",
    ]);
    expect(await dao.registry.view("get_params", {})).toMatchObject({ max_evidence_bytes: 12345 });
    expect(await dao.escrow.view("get_params", {})).toMatchObject({ fee_bps: 250 });
  });

  test("when gas runs out between actions the proposal pauses, queued, and the next execute goes on", async () => {
    const setParams = (max_evidence_bytes: number) => ({
      kind: "function_call",
      target: dao.registry.accountId,
      method: "set_params",
      args: { params: { max_evidence_bytes } },
      gas_tgas: 100,
    });
    const id = await propose(dao, dao.bob, [setParams(11111), setParams(22222)]);
    await pass(dao, id, [dao.alice, dao.bob]);
    // Enough for the first action (100 + callback 20 + overhead 15 Tgas) but, in the callback,
    // not for the second.
    const first = await callRaw(dao.dave, dao.gov, {
      method: "execute",
      args: { proposal_id: id },
      gas: 190n * TGAS,
    });
    expect(first.failed, first.receiptFailureMessages.join("\n")).toBe(false);
    expect(eventNames(first)).toEqual([
      "proposal_action_started",
      "params_updated",
      "proposal_action_executed",
      "proposal_execution_paused",
    ]);
    const paused = eventsOf(first).find((e) => e.event === "proposal_execution_paused");
    expect(paused?.data[0]).toEqual({ id, index: 1, gas_needed_tgas: 135 });
    expect(await proposal(dao, id)).toMatchObject({ status: "queued", executed_actions: 1 });
    expect(await dao.registry.view("get_params", {})).toMatchObject({ max_evidence_bytes: 11111 });

    const second = await execute(dao, dao.dave, id);
    expect(eventNames(second)).toEqual([
      "proposal_action_started",
      "params_updated",
      "proposal_action_executed",
      "proposal_executed",
    ]);
    expect(await proposal(dao, id)).toMatchObject({ status: "executed", executed_actions: 2 });
    expect(await dao.registry.view("get_params", {})).toMatchObject({ max_evidence_bytes: 22222 });
  });

  test("a call the target rejects fails the proposal with the reason, retryable", async () => {
    const id = await propose(dao, dao.bob, [
      {
        kind: "function_call",
        target: dao.escrow.accountId,
        method: "set_params",
        args: { params: { fee_bps: 20000 } },
      },
    ]);
    await pass(dao, id, [dao.alice, dao.bob]);
    const result = await execute(dao, dao.dave, id);
    expect(eventNames(result)).toEqual(["proposal_action_started", "proposal_failed"]);
    expect(await proposal(dao, id)).toMatchObject({
      status: "failed",
      failure: `action 0 (function_call): the receipt on ${dao.escrow.accountId} failed (see its outcome); nothing of it applied`,
    });
    expect(await dao.escrow.view("get_params", {})).toMatchObject({ fee_bps: 250 });
  });

  test("treasury transfers of NEAR, of this token and of another NEP-141 token", async () => {
    await callOk(dao.dave, dao.usdc, {
      method: "storage_deposit",
      args: {},
      deposit: ONE_NEAR / 100n,
    });
    const id = await propose(dao, dao.alice, [
      { kind: "transfer", receiver: dao.dave.accountId, amount: (3n * ONE_NEAR).toString() },
      {
        kind: "transfer",
        receiver: dao.dave.accountId,
        amount: (10n * TOKEN).toString(),
        token: dao.gov.accountId,
      },
      {
        kind: "transfer",
        receiver: dao.dave.accountId,
        amount: "5000000",
        token: dao.usdc.accountId,
      },
    ]);
    await pass(dao, id, [dao.alice, dao.bob]);
    const daveNear = await balanceOf(dao.dave);
    const result = await execute(dao, dao.carol, id);
    expect(result.failed, result.receiptFailureMessages.join("\n")).toBe(false);
    expect((await proposal(dao, id)).status).toBe("executed");
    expect((await balanceOf(dao.dave)) - daveNear).toBe(3n * ONE_NEAR);
    expect(await dao.gov.view("ft_balance_of", { account_id: dao.dave.accountId })).toBe(
      (60n * TOKEN).toString(),
    );
    expect(await dao.gov.view("ft_balance_of", { account_id: dao.gov.accountId })).toBe(
      (90n * TOKEN).toString(),
    );
    expect(await dao.usdc.view("ft_balance_of", { account_id: dao.dave.accountId })).toBe(
      "5000000",
    );
  });

  test("a transfer beyond the treasury fails with the reason and changes nothing", async () => {
    const id = await propose(dao, dao.alice, [
      { kind: "transfer", receiver: dao.dave.accountId, amount: (100_000n * ONE_NEAR).toString() },
    ]);
    await pass(dao, id, [dao.alice, dao.bob]);
    const result = await execute(dao, dao.carol, id);
    expect(eventNames(result)).toEqual(["proposal_failed"]);
    expect((await proposal(dao, id)).failure).toMatch(
      /^action 0 \(transfer\): the transfer needs 100000000000000000000000000000 yoctoNEAR; the treasury has \d+ available$/,
    );
  });

  test("a config change applies to proposals made after it", async () => {
    const id = await propose(dao, dao.alice, [
      { kind: "config", config: { quorum_bps: 5000, voting_period_blocks: 30 } },
    ]);
    await pass(dao, id, [dao.alice]);
    const result = await execute(dao, dao.carol, id);
    expect(eventNames(result)).toEqual([
      "config_updated",
      "proposal_action_executed",
      "proposal_executed",
    ]);
    expect(await dao.gov.view("get_config", {})).toMatchObject({
      quorum_bps: 5000,
      voting_period_blocks: 30,
    });
    const next = await propose(dao, dao.alice, [devMode(true)]);
    const view = await proposal(dao, next);
    expect(view.quorum).toBe((500n * TOKEN).toString());
    expect(view.vote_end_height - view.snapshot_height).toBe(30);
    expect(await height(dao.worker)).toBeGreaterThan(0);
  });
});
