/**
 * The dashboard's plain logic (amount formatting, the market rebuilt from events, proposal
 * status, a job's inference line and a machine's throughput), imported from the browser modules
 * themselves.
 */
import { describe, expect, it } from "vitest";

interface FormatModule {
  near(yocto: string | null, digits?: number): string;
  parseNear(text: string): string | null;
  units(amount: string, decimals: number): string;
}
interface MarketModule {
  Market: new () => {
    jobs: Map<string, { status: string }>;
    proposals: Map<number, Record<string, unknown>>;
    balances: Map<string, bigint>;
    feed: unknown[];
    apply(event: Record<string, unknown>): void;
  };
  proposalStatus(proposal: Record<string, unknown>, height: number): string;
}

const dashboard = (file: string) =>
  new URL(`../../../indexer/dashboard/${file}`, import.meta.url).href;
interface JobsModule {
  tokensPerSecond(job: Record<string, unknown>): number | null;
  inferenceLine(job: Record<string, unknown>): string;
}
interface MachinesModule {
  throughput(machine: Record<string, unknown>): string;
}

const format = (await import(dashboard("format.js"))) as FormatModule;
const jobs = (await import(dashboard("jobs.js"))) as JobsModule;
const machines = (await import(dashboard("machines.js"))) as MachinesModule;
const { Market, proposalStatus } = (await import(dashboard("market.js"))) as MarketModule;

describe("amounts", () => {
  it("shows yoctoNEAR as NEAR without floating point", () => {
    expect(format.near("1000000000000000000000000")).toBe("1");
    expect(format.near("1250000000000000000000000")).toBe("1.25");
    expect(format.near("800000000000000000000", 6)).toBe("0.0008");
    // 2^128 - 1 (beyond any float's precision), rounded half up at the 4th decimal
    expect(format.near("340282366920938463463374607431768211455", 4)).toBe(
      "340,282,366,920,938.4635",
    );
    expect(format.near("99999", 4)).toBe("<0.0001");
    expect(format.near("0")).toBe("0");
    expect(format.near("-5")).toBe("–");
  });

  it("reads NEAR typed in a filter as yoctoNEAR, refusing what is not an amount", () => {
    expect(format.parseNear("0.5")).toBe("500000000000000000000000");
    expect(format.parseNear(" 2 ")).toBe("2000000000000000000000000");
    expect(format.parseNear("0.000000000000000000000001")).toBe("1");
    expect(format.parseNear("1e3")).toBeNull();
    expect(format.parseNear("-1")).toBeNull();
    expect(format.parseNear("0.0000000000000000000000001")).toBeNull();
  });

  it("shows token amounts with their decimals", () => {
    expect(format.units("250000000000000000000000000000", 24)).toBe("250,000");
    expect(format.units("1500000", 6)).toBe("1.5");
  });
});

const job = (id: string, status: string) => ({ id, status, client: "c.near", created_at: "1" });
const event = (
  height: number,
  seq: number,
  name: string,
  data: unknown[],
  standard = "gpumarket",
) => ({
  block_height: height,
  block_timestamp: `${height}000000000`,
  seq,
  contract: "x.near",
  standard,
  event: name,
  data,
  status: "applied",
});

describe("the market rebuilt from events", () => {
  it("keeps each job's latest record and ignores events already applied", () => {
    const market = new Market();
    market.apply(event(10, 0, "job_created", [job("0", "requested")]));
    market.apply(event(11, 0, "job_accepted", [job("0", "accepted")]));
    market.apply(event(10, 0, "job_created", [job("0", "requested")]));
    market.apply(event(11, 1, "job_created", [job("1", "requested")]));
    expect(market.jobs.get("0")?.status).toBe("accepted");
    expect(market.jobs.get("1")?.status).toBe("requested");
    expect(market.feed).toHaveLength(3);
  });

  it("tallies votes and token balances", () => {
    const market = new Market();
    market.apply(event(1, 0, "ft_mint", [{ owner_id: "a.near", amount: "100" }], "nep141"));
    market.apply(
      event(
        2,
        0,
        "ft_transfer",
        [{ old_owner_id: "a.near", new_owner_id: "b.near", amount: "30" }],
        "nep141",
      ),
    );
    market.apply(
      event(3, 0, "proposal_created", [
        {
          id: 4,
          snapshot_height: 5,
          vote_end_height: 10,
          quorum: "50",
          votes_for: "0",
          votes_against: "0",
          votes_abstain: "0",
        },
      ]),
    );
    market.apply(
      event(6, 0, "vote_cast", [
        {
          proposal_id: 4,
          voter: "a.near",
          support: "for",
          weight: "70",
          votes_for: "70",
          votes_against: "0",
          votes_abstain: "0",
        },
      ]),
    );
    expect(market.balances.get("a.near")).toBe(70n);
    expect(market.balances.get("b.near")).toBe(30n);
    expect(market.proposals.get(4)).toMatchObject({ votes_for: "70", voters: 1 });
  });
});

describe("proposal status at an indexed height", () => {
  const base = {
    snapshot_height: 5,
    vote_end_height: 10,
    quorum: "50",
    votes_for: "60",
    votes_against: "10",
    votes_abstain: "0",
  };
  it("follows the voting window, then quorum and majority", () => {
    expect(proposalStatus(base, 5)).toBe("pending");
    expect(proposalStatus(base, 6)).toBe("active");
    expect(proposalStatus(base, 10)).toBe("active");
    expect(proposalStatus(base, 11)).toBe("succeeded");
    expect(proposalStatus({ ...base, votes_for: "40" }, 11)).toBe("defeated");
    expect(proposalStatus({ ...base, votes_against: "60" }, 11)).toBe("defeated");
  });
  it("reports queued, executed and canceled proposals", () => {
    expect(proposalStatus({ ...base, queued: { eta_height: 20, expires_height: 30 } }, 25)).toBe(
      "queued",
    );
    expect(proposalStatus({ ...base, queued: { eta_height: 20, expires_height: 30 } }, 31)).toBe(
      "expired",
    );
    expect(proposalStatus({ ...base, executed: true }, 40)).toBe("executed");
    expect(proposalStatus({ ...base, canceled_by: "g.near" }, 7)).toBe("canceled");
  });
});

describe("confidential inference on jobs and machines", () => {
  const base = {
    model_hash: "aa".repeat(32),
    input_hash: "bb".repeat(32),
    keyset_sha256: "cc".repeat(32),
    model_name: null,
    prompt_tokens: null,
    completion_tokens: null,
    usage: null,
    failure_code: null,
    result_hash: null,
    accepted_at: null,
    delivered_at: null,
  };

  it("shows the model, the keyset the input was encrypted to, usage and tokens per second", () => {
    const delivered = {
      ...base,
      model_name: "llama-3.1-8b-instruct",
      prompt_tokens: "120",
      completion_tokens: "300",
      usage: "420",
      result_hash: "dd".repeat(32),
      accepted_at: "1000000000",
      delivered_at: "3000000000",
    };
    expect(jobs.tokensPerSecond(delivered)).toBe(150);
    expect(jobs.inferenceLine(delivered)).toBe(
      "model llama-3.1-8b-instruct (aaaaaa…aaaaaa) · input encrypted to keyset cccccc…cccccc · " +
        "120 prompt + 300 completion tokens · 150.0 tok/s · result dddddddd…dddddddd",
    );
  });

  it("marks a job without a keyset (escrow version 1) and a job its provider failed", () => {
    expect(jobs.inferenceLine({ ...base, keyset_sha256: null, usage: "7" })).toBe(
      "model aaaaaaaa…aaaaaaaa · input bbbbbbbb…bbbbbbbb (no keyset) · usage 7",
    );
    expect(jobs.inferenceLine({ ...base, failure_code: "backend_unavailable" })).toContain(
      "failed: backend unavailable",
    );
    expect(jobs.tokensPerSecond(base)).toBeNull();
  });

  it("shows a machine's tokens per second and delivered jobs", () => {
    expect(
      machines.throughput({
        throughput: {
          jobs_delivered: 3,
          prompt_tokens: "10",
          completion_tokens: "90",
          tokens_per_second: 12.345,
        },
      }),
    ).toBe("12.3 tok/s · 3 jobs");
    expect(
      machines.throughput({
        throughput: {
          jobs_delivered: 1,
          prompt_tokens: "0",
          completion_tokens: "0",
          tokens_per_second: null,
        },
      }),
    ).toBe("1 job");
    expect(
      machines.throughput({
        throughput: {
          jobs_delivered: 0,
          prompt_tokens: "0",
          completion_tokens: "0",
          tokens_per_second: null,
        },
      }),
    ).toBe("no job delivered");
  });
});
