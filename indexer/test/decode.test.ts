/** Event decoding on recorded StreamerMessages: which logs count, validation, unknown events. */
import { describe, expect, test } from "vitest";
import type { Contracts } from "../src/decode/contracts.ts";
import { decodeBlock } from "../src/decode/decode-block.ts";
import { BlockFormatError, parseStreamerMessage } from "../src/source/streamer-message.ts";
import { copy, loadFlow, loadMainnetBlock } from "./support/fixtures.ts";

const flow = loadFlow();
const contracts: Contracts = { registry: flow.registry, escrow: null, governance: null };

type Raw = Record<string, unknown>;
interface RawOutcome {
  execution_outcome: { outcome: { logs: string[]; status: unknown; executor_id: string } };
}
interface RawShard {
  shard_id: number;
  receipt_execution_outcomes: RawOutcome[];
}

const shardsOf = (message: Raw): RawShard[] => message.shards as RawShard[];

function allEvents(blocks: (Raw | null)[], set = contracts) {
  return blocks.flatMap((m) => (m === null ? [] : decodeBlock(parseStreamerMessage(m), set)));
}

/** The first recorded block with a registry event, and that event's outcome. */
function blockWithEvent(name: string): { message: Raw; outcome: RawOutcome } {
  for (const message of flow.blocks) {
    if (message === null) continue;
    for (const shard of shardsOf(message)) {
      for (const outcome of shard.receipt_execution_outcomes) {
        if (outcome.execution_outcome.outcome.logs.some((l) => l.includes(`"event":"${name}"`))) {
          const copied = copy(message);
          const index = shard.receipt_execution_outcomes.indexOf(outcome);
          const copiedShard = shardsOf(copied)[shardsOf(message).indexOf(shard)] as RawShard;
          return {
            message: copied,
            outcome: copiedShard.receipt_execution_outcomes[index] as RawOutcome,
          };
        }
      }
    }
  }
  throw new Error(`no recorded block has ${name}`);
}

function eventLine(event: string, data: unknown[], version = "1.0.0", standard = "gpumarket") {
  return `EVENT_JSON:${JSON.stringify({ standard, version, event, data })}`;
}

describe("decodeBlock on the recorded registry flow", () => {
  test("finds every event of the flow in order, all valid", () => {
    const events = allEvents(flow.blocks);
    expect(events.map((e) => e.event)).toEqual([
      "registry_initialized",
      "provider_registered",
      "verifier_added",
      "measurement_allowed",
      "challenge_issued",
      "machine_added",
      "verdict_posted",
      "machine_price_updated",
    ]);
    expect(events.every((e) => e.status === "applied" && e.error === null)).toBe(true);
    expect(events.every((e) => e.contract === flow.registry)).toBe(true);
    const added = events.find((e) => e.event === "machine_added");
    expect(added?.items).toHaveLength(1);
    expect(added?.predecessor).toBe(flow.provider);
    expect(added?.txHash).toMatch(/^[1-9A-HJ-NP-Za-km-z]{43,44}$/);
  });

  test("ignores contracts that are not configured", () => {
    expect(
      allEvents(flow.blocks, { registry: "other.near", escrow: null, governance: null }),
    ).toEqual([]);
  });

  test("ignores the logs of a failed receipt", () => {
    const { message, outcome } = blockWithEvent("provider_registered");
    expect(allEvents([message])).toHaveLength(1);
    outcome.execution_outcome.outcome.status = {
      Failure: {
        ActionError: { index: 0, kind: { FunctionCallError: { ExecutionError: "boom" } } },
      },
    };
    expect(allEvents([message])).toEqual([]);
  });

  test("treats an Unknown status as not successful", () => {
    const { message, outcome } = blockWithEvent("machine_added");
    outcome.execution_outcome.outcome.status = "Unknown";
    expect(allEvents([message])).toEqual([]);
  });

  test("orders events across shards and numbers them within the block", () => {
    const { message, outcome } = blockWithEvent("machine_added");
    const registryOutcome = copy(outcome);
    registryOutcome.execution_outcome.outcome.logs = [
      "plain log line, not an event",
      eventLine("dev_mode_set", [{ enabled: true }]),
    ];
    const shards = shardsOf(message);
    shards.push({ shard_id: 1, receipt_execution_outcomes: [registryOutcome] });
    const block = parseStreamerMessage(message);
    const events = decodeBlock(block, contracts);
    expect(events.map((e) => [e.event, e.shardId, e.seq, e.logIndex])).toEqual([
      ["machine_added", 0, 0, 0],
      ["dev_mode_set", 1, 1, 1],
    ]);
  });
});

describe("unknown and invalid events are recorded, not dropped", () => {
  function decodeLines(lines: string[]) {
    const { message, outcome } = blockWithEvent("provider_registered");
    outcome.execution_outcome.outcome.logs = lines;
    return decodeBlock(parseStreamerMessage(message), contracts);
  }

  test("an unknown event name", () => {
    const [event] = decodeLines([eventLine("machine_teleported", [{ id: "1" }])]);
    expect(event?.status).toBe("unknown");
    expect(event?.error).toContain("unknown event gpumarket/1.0.0/machine_teleported");
    expect(event?.data).toEqual([{ id: "1" }]);
  });

  test("an unknown version of a known event", () => {
    const [event] = decodeLines([eventLine("dev_mode_set", [{ enabled: true }], "2.0.0")]);
    expect(event?.status).toBe("unknown");
    expect(event?.version).toBe("2.0.0");
  });

  test("another standard", () => {
    const [event] = decodeLines([eventLine("nft_mint", [{}], "1.0.0", "nep171")]);
    expect(event?.status).toBe("unknown");
  });

  test("a known event whose data breaks the schema names the field", () => {
    const provider = {
      account_id: "a.near",
      name: "A",
      endpoint: "https://a",
      region: "eu",
      bond: "1.5",
      status: "active",
      created_at: "1",
      updated_at: "1",
      unbonding_ends_at: null,
    };
    const [fraction] = decodeLines([eventLine("provider_registered", [provider])]);
    expect(fraction?.status).toBe("invalid");
    expect(fraction?.error).toBe('data[0].bond: expected a u128 decimal string, got "1.5"');
    const tooBig = { ...provider, bond: (1n << 128n).toString() };
    expect(decodeLines([eventLine("provider_registered", [tooBig])])[0]?.error).toContain(
      "data[0].bond: expected a u128",
    );
    const extra = { ...provider, bond: "1", surprise: 1 };
    expect(decodeLines([eventLine("provider_registered", [extra])])[0]?.error).toBe(
      "data[0].surprise: unexpected field",
    );
    const { region: _region, ...missing } = { ...provider, bond: "1" };
    expect(decodeLines([eventLine("provider_registered", [missing])])[0]?.error).toBe(
      "data[0].region: missing",
    );
  });

  test("registry keysets: version 2 machines carry one, version 1 machines none; a bad one is named", () => {
    const keyset = {
      machine_public_key: "ed25519:11111111111111111111111111111111",
      encryption_key: `x25519:${"ab".repeat(32)}`,
      models: [{ name: "llama-3.1-8b-instruct", weights_sha256: "cd".repeat(32) }],
      keyset_sha256: "ef".repeat(32),
    };
    const v1 = {
      id: "3",
      provider: "a.near",
      machine_public_key: keyset.machine_public_key,
      tee_type: "tdx",
      hardware: { gpus: [], cpu_cores: 8, ram_mib: 1024 },
      price_per_unit: "5",
      status: "active",
      created_at: "1",
      updated_at: "1",
      evidence: { hash: "aa".repeat(32), size: 100, nonce: "bb".repeat(32), submitted_at: "1" },
    };
    const { keyset_sha256: _, ...current } = keyset;
    const v2 = {
      ...v1,
      ...current,
      keyset_sha256: keyset.keyset_sha256,
      evidence: { ...v1.evidence, keyset_sha256: keyset.keyset_sha256 },
      next_keyset: null,
    };
    const submitted = {
      machine_id: "3",
      provider: "a.near",
      ...v2.evidence,
      current_keyset: keyset,
      next_keyset: { ...keyset, keyset_sha256: "11".repeat(32) },
    };
    const events = decodeLines([
      eventLine("machine_added", [v1]),
      eventLine("machine_added", [v2]),
      eventLine("evidence_submitted", [submitted]),
      eventLine("machine_added", [{ ...v2, models: [{ name: "m" }] }]),
      eventLine("evidence_submitted", [{ ...submitted, next_keyset: { ...keyset, extra: 1 } }]),
    ]);
    expect(events.map((e) => e.status)).toEqual([
      "applied",
      "applied",
      "applied",
      "invalid",
      "invalid",
    ]);
    expect(events[3]?.error).toBe("data[0].models[0].weights_sha256: missing");
    expect(events[4]?.error).toBe("data[0].next_keyset.extra: unexpected field");
  });

  test("a line that is not JSON, and JSON that is not an event", () => {
    const events = decodeLines(["EVENT_JSON:{not json", 'EVENT_JSON:["a"]', 'EVENT_JSON:{"x":1}']);
    expect(events.map((e) => e.status)).toEqual(["invalid", "invalid", "invalid"]);
    expect(events[0]?.error).toMatch(/^not JSON/);
    expect(events.map((e) => e.logIndex)).toEqual([0, 1, 2]);
  });
});

describe("parseStreamerMessage", () => {
  test("reads the header and outcomes", () => {
    const message = flow.blocks[0] as Raw;
    const block = parseStreamerMessage(message);
    expect(block.height).toBeGreaterThan(0);
    expect(block.timestampNs).toMatch(/^\d{19}$/);
    expect(block.prevHash).not.toBe(block.hash);
  });

  test("rejects a message without what the indexer needs, naming it", () => {
    const message = copy(flow.blocks[0] as Raw);
    delete (message.shards as Raw[])[0]?.receipt_execution_outcomes;
    expect(() => parseStreamerMessage(message)).toThrow(BlockFormatError);
    expect(() => parseStreamerMessage(message)).toThrow("shards[0].receipt_execution_outcomes");
    expect(() => parseStreamerMessage({ block: {} })).toThrow("block.header");
  });
});

describe("escrow and governance schemas", () => {
  /** Decodes `lines` as if the recorded registry account were the given role's contract. */
  function decodeAs(role: "escrow" | "governance", lines: string[]) {
    const { message, outcome } = blockWithEvent("provider_registered");
    outcome.execution_outcome.outcome.logs = lines;
    const set: Contracts = {
      registry: null,
      escrow: null,
      governance: null,
      [role]: flow.registry,
    };
    return decodeBlock(parseStreamerMessage(message), set);
  }

  test("nep141 transfers with and without the optional memo; a bad memo is invalid", () => {
    const transfer = { old_owner_id: "a.near", new_owner_id: "b.near", amount: "5" };
    const events = decodeAs("governance", [
      eventLine("ft_transfer", [transfer, { ...transfer, memo: "rent" }], "1.0.0", "nep141"),
      eventLine("ft_transfer", [{ ...transfer, memo: 7 }], "1.0.0", "nep141"),
    ]);
    expect(events.map((e) => e.status)).toEqual(["applied", "invalid"]);
    expect(events[0]?.items).toHaveLength(2);
    expect(events[1]?.error).toBe("data[0].memo: expected a string, got 7");
  });

  test("a proposal with an action kind the schema does not know is invalid", () => {
    const proposal = {
      id: 0,
      proposer: "a.near",
      description: "x",
      actions: [{ kind: "teleport" }],
      created_height: 1,
      snapshot_height: 2,
      vote_end_height: 3,
      quorum: "1",
      votes_for: "0",
      votes_against: "0",
      votes_abstain: "0",
      stage: "voting",
      eta_height: null,
      executed_actions: 0,
      failure: null,
      canceled_by: null,
    };
    const [bad, good] = decodeAs("governance", [
      eventLine("proposal_created", [proposal]),
      eventLine("proposal_created", [
        { ...proposal, actions: [{ kind: "config", config: { quorum_bps: 1 } }] },
      ]),
    ]);
    expect(bad?.error).toBe(
      "data[0].actions[0].kind: expected one of upgrade, upgrade_self, function_call, transfer, config",
    );
    expect(good?.status).toBe("applied");
  });

  /** A job as escrow version 1 emitted it (no keyset, receipt or failure fields). */
  const v1Job = {
    id: "3",
    client: "c.near",
    payer: "c.near",
    machine_id: "1",
    provider: "p.near",
    machine_public_key: "ed25519:11111111111111111111111111111111",
    price_per_unit: "1000",
    fee_bps: 100,
    asset: "NEAR",
    max_amount: "5000000",
    model_hash: "aa".repeat(32),
    input_hash: "bb".repeat(32),
    status: "accepted",
    created_at: "10",
    accept_deadline: "20",
    deliver_within_ns: "30",
    accepted_at: "11",
    deliver_deadline: "41",
    result_hash: null,
    usage: null,
    signature: null,
    amount_due: null,
    delivered_at: null,
    dispute_deadline: null,
    disputed_at: null,
    dispute_reason: null,
    arbitration_deadline: null,
    resolution_note: null,
    slash_requested: false,
    provider_payout: null,
    fee: null,
    client_refund: null,
    closed_at: null,
    refund_reason: null,
    settled_by: null,
  };
  const failed = {
    ...v1Job,
    keyset_sha256: "cc".repeat(32),
    encryption_key: `x25519:${"dd".repeat(32)}`,
    model_name: null,
    prompt_tokens: null,
    completion_tokens: null,
    chunks: null,
    status: "refunded",
    provider_payout: "0",
    fee: "0",
    client_refund: "5000000",
    closed_at: "12",
    refund_reason: "provider_failed",
    failure_code: "capacity",
  };

  test("escrow jobs of version 2 (keyset, receipt, job_failed) and of version 1 both decode", () => {
    const delivered = {
      ...failed,
      status: "delivered",
      model_name: "llama-3.1-8b-instruct",
      prompt_tokens: "12",
      completion_tokens: "30",
      chunks: "2",
      usage: "42",
      result_hash: "ee".repeat(32),
      refund_reason: null,
      failure_code: null,
      provider_payout: null,
      fee: null,
      client_refund: null,
      closed_at: null,
    };
    const events = decodeAs("escrow", [
      eventLine("job_accepted", [v1Job]),
      eventLine("job_delivered", [delivered]),
      eventLine("job_failed", [failed]),
      eventLine("job_failed", [{ ...failed, failure_code: "tired" }]),
      eventLine("job_delivered", [{ ...delivered, prompt_tokens: "18446744073709551616" }]),
    ]);
    expect(events.map((e) => [e.event, e.status])).toEqual([
      ["job_accepted", "applied"],
      ["job_delivered", "applied"],
      ["job_failed", "applied"],
      ["job_failed", "invalid"],
      ["job_delivered", "invalid"],
    ]);
    expect(events[3]?.error).toMatch(/^data\[0\]\.failure_code: expected one of model_unavailable/);
    expect(events[4]?.error).toMatch(/^data\[0\]\.prompt_tokens: expected a u64 decimal string/);
  });

  test("an escrow balance event with a non-canonical amount is invalid; the same name from another role is unknown", () => {
    const deposit = { account_id: "a.near", asset: "NEAR", amount: "007", deposited: "7" };
    const [escrowEvent] = decodeAs("escrow", [eventLine("deposit", [deposit])]);
    expect(escrowEvent?.error).toBe('data[0].amount: expected a u128 decimal string, got "007"');
    const [asGovernance] = decodeAs("governance", [eventLine("deposit", [deposit])]);
    expect(asGovernance?.status).toBe("unknown");
  });
});

describe("decodeBlock on a real mainnet block (61321189: four shards, other contracts' logs, failed receipts)", () => {
  const message = loadMainnetBlock();
  const only = (account: string): Contracts => ({
    registry: account,
    escrow: null,
    governance: null,
  });
  const outcomes = (m: Raw) =>
    shardsOf(m).flatMap((shard) =>
      shard.receipt_execution_outcomes.map((o) => ({ shard: shard.shard_id, o })),
    );

  test("the block parses: height, hash, time and every shard's outcomes", () => {
    const block = parseStreamerMessage(message);
    expect(block).toMatchObject({
      height: 61321189,
      hash: "DEK7XjDsduvDwVidshcJWGBGby7XLXozPagCgQDKmeae",
      prevHash: "DWZTEzSszxfKZvGeAZE9zZZUCXTmZGY2dWT139cZUx4b",
      timestampNs: "1647137534885263529",
    });
    expect(block.shards.map((s) => [s.shardId, s.outcomes.length])).toEqual([
      [0, 6],
      [1, 3],
      [2, 1],
      [3, 8],
    ]);
    expect(block.shards[1]?.outcomes.filter((o) => !o.succeeded)).toHaveLength(2);
  });

  test("only the configured contract's EVENT_JSON lines count: one nft_mint of x.paras.near", () => {
    const events = decodeBlock(parseStreamerMessage(message), only("x.paras.near"));
    expect(events).toEqual([
      expect.objectContaining({
        receiptId: "AVeR4o6MWKYMhjJV8x6ZNk9U9kQYm1qbiN8bBaQQ4rWG",
        logIndex: 0,
        shardId: 3,
        seq: 0,
        contract: "x.paras.near",
        standard: "nep171",
        version: "1.0.0",
        event: "nft_mint",
        data: [{ owner_id: "paras.near", token_ids: ["144351:27"] }],
        // No gpumarket schema for an NFT standard: kept, never applied.
        status: "unknown",
      }),
    ]);
    // Plain logs of other contracts (aurora, v2.ref-farming.near) are no events.
    for (const account of ["aurora", "v2.ref-farming.near", "6679973366195.near"]) {
      expect(decodeBlock(parseStreamerMessage(message), only(account))).toEqual([]);
    }
  });

  test("a failed receipt's logs never count, as on localnet", () => {
    // aurora's two failed receipts in shard 1 log lines; make those lines events of ours.
    const edited = copy(message);
    const failed = outcomes(edited).filter(
      ({ o }) =>
        o.execution_outcome.outcome.executor_id === "aurora" &&
        "Failure" in (o.execution_outcome.outcome.status as Raw),
    );
    expect(failed).toHaveLength(2);
    for (const { o } of failed) {
      o.execution_outcome.outcome.logs.push(eventLine("provider_registered", [{}]));
    }
    expect(decodeBlock(parseStreamerMessage(edited), only("aurora"))).toEqual([]);
    // The same line in aurora's successful receipt is decoded (and found invalid: empty data).
    const ok = outcomes(edited).find(
      ({ o }) =>
        o.execution_outcome.outcome.executor_id === "aurora" &&
        "SuccessValue" in (o.execution_outcome.outcome.status as Raw),
    );
    ok?.o.execution_outcome.outcome.logs.push(eventLine("provider_registered", [{}]));
    expect(decodeBlock(parseStreamerMessage(edited), only("aurora"))).toEqual([
      expect.objectContaining({ event: "provider_registered", status: "invalid" }),
    ]);
  });
});
