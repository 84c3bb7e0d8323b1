/**
 * job run's output and errors over a stand-in market (the client itself is tested in client/, and
 * end to end on localnet in client/test/e2e.test.ts): the answer on stdout or streamed, progress
 * on stderr, one JSON document with --json, each client error with its fix; and the flags.
 */
import {
  ClientError,
  type GpuMarket,
  type InferRequest,
  type InferResult,
} from "@gpu-market/client";
import { KeyPair } from "near-api-js";
import { describe, expect, it } from "vitest";
import { runJob } from "../src/commands/job-run.ts";
import { CliError } from "../src/errors.ts";
import { memoryIo } from "../src/io.ts";
import { runCli } from "./support/run-cli.ts";

const RESULT: InferResult = {
  text: "Hello, world.",
  finishReason: "stop",
  jobId: "7",
  machineId: "2",
  provider: "alice.test.near",
  model: "tiny-llama",
  weightsSha256: "ab".repeat(32),
  usage: { promptTokens: 12, completionTokens: 6 },
  amountDue: "18000000000000000000000",
  refunded: "982000000000000000000000",
  asset: "NEAR",
  txHashes: { createJob: "tx1", confirmJob: "tx2" },
  receipt: {
    escrow: "escrow.test.near",
    job_id: "7",
    model: "tiny-llama",
    weights_sha256: "ab".repeat(32),
    request_sha256: "cd".repeat(32),
    response_sha256: "ef".repeat(32),
    prompt_tokens: "12",
    completion_tokens: "6",
    chunks: "3",
  },
  signature: "00".repeat(64),
  attestation: null,
};

/** A market whose infer() plays `play` and records the request. */
function market(play: (request: InferRequest) => Promise<InferResult>) {
  const requests: InferRequest[] = [];
  const stand = {
    infer: (request: InferRequest) => {
      requests.push(request);
      return play(request);
    },
  } as unknown as GpuMarket;
  return { market: stand, requests };
}

const BASE = {
  model: "tiny-llama",
  prompt: "Hi",
  maxAmount: 10n ** 24n,
  maxTokens: 64,
  verifyAttestation: false,
  allowDevMachines: false,
  stream: false,
};

describe("job run", () => {
  it("prints the answer on stdout, progress and the bill on stderr", async () => {
    const { market: m, requests } = market(async (request) => {
      request.onProgress?.({ step: "job_created", message: "job 7 created", jobId: "7" });
      return RESULT;
    });
    const io = memoryIo();
    await runJob({ ...BASE, market: m, system: "Be brief." }, io);
    expect(io.lines).toEqual(["Hello, world."]);
    expect(io.progressLines).toEqual([
      "job 7 created",
      "job 7 on machine 2: 12 + 6 tokens, paid 0.018 NEAR; 0.982 NEAR credited back (gpu-market job withdraw)",
    ]);
    expect(requests[0]).toMatchObject({
      model: "tiny-llama",
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: "Hi" },
      ],
      maxAmount: 10n ** 24n,
      maxTokens: 64,
      onToken: undefined,
    });
  });

  it("streams the answer as it comes, then ends the line", async () => {
    const { market: m } = market(async (request) => {
      for (const part of ["Hello", ", ", "world."]) request.onToken?.(part);
      return RESULT;
    });
    const written: string[] = [];
    const io = memoryIo();
    await runJob({ ...BASE, market: m, stream: true, write: (t) => written.push(t) }, io);
    expect(written).toEqual(["Hello", ", ", "world.", "\n"]);
    expect(io.lines).toEqual([]);
  });

  it("gives one JSON document with the answer, job, usage, amounts and tx hashes", async () => {
    const { market: m } = market(async () => RESULT);
    const io = memoryIo(true);
    await runJob({ ...BASE, market: m }, io);
    expect(io.results).toEqual([
      {
        answer: "Hello, world.",
        finish_reason: "stop",
        job_id: "7",
        machine_id: "2",
        provider: "alice.test.near",
        model: "tiny-llama",
        weights_sha256: "ab".repeat(32),
        usage: { prompt_tokens: 12, completion_tokens: 6 },
        amount_due: "18000000000000000000000",
        refunded: "982000000000000000000000",
        asset: "NEAR",
        tx_hashes: { createJob: "tx1", confirmJob: "tx2" },
        receipt: RESULT.receipt,
        signature: "00".repeat(64),
        attestation: null,
      },
    ]);
  });

  it("turns each client error into a CLI error with its fix and the job in the details", async () => {
    const cases: [ClientError, RegExp | undefined, number][] = [
      [
        new ClientError("job_failed", "the provider gave job 7 back unserved (capacity)", {
          jobId: "7",
          refunded: true,
          failureCode: "capacity",
        }),
        /gpu-market job withdraw/,
        1,
      ],
      [
        new ClientError("dev_machine", "machine 0 is a none-dev machine"),
        /--allow-dev-machines/,
        1,
      ],
      [new ClientError("no_machine", "no eligible machine serves model x"), /--max-price/, 1],
      [new ClientError("disputed", "job 7: bad file; disputed", { jobId: "7" }), /job watch/, 1],
      [new ClientError("bad_input", "maxTokens: expected an integer"), undefined, 2],
    ];
    for (const [thrown, hint, exitCode] of cases) {
      const { market: m } = market(async () => {
        throw thrown;
      });
      const error = (await runJob({ ...BASE, market: m }, memoryIo()).catch((e) => e)) as CliError;
      expect(error).toBeInstanceOf(CliError);
      expect(error.message).toBe(thrown.message);
      if (hint !== undefined) expect(error.hint).toMatch(hint);
      expect(error.exitCode).toBe(exitCode);
      expect(error.details).toEqual({
        code: thrown.code,
        job_id: thrown.jobId ?? null,
        refunded: thrown.refunded,
        failure_code: thrown.failureCode ?? null,
        tx_hash: null,
      });
    }
  });

  it("refuses missing or malformed flags with exit status 2", async () => {
    const env = { GPU_MARKET_DEPLOYMENT: "/nonexistent/deployment.json" };
    const missing = await runCli(["job", "run", "--model", "tiny-llama", "--json"], env);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/job run needs --model, --prompt and --max-amount/);
    expect(JSON.parse(missing.stdout)).toMatchObject({ ok: false });
    const amount = await runCli(
      [
        "job",
        "run",
        "--model",
        "m",
        "--prompt",
        "p",
        "--max-amount",
        "1e3",
        "--account",
        "a.near",
        "--registry",
        "r",
        "--escrow",
        "e",
      ],
      {
        ...env,
        NEAR_ACCOUNT_ID: "a.near",
        NEAR_PRIVATE_KEY: KeyPair.fromRandom("ed25519").toString(),
      },
    );
    expect(amount.code).toBe(2);
    expect(amount.stderr).toMatch(/--max-amount: "1e3" is not an amount of NEAR/);
    const help = await runCli(["job", "run", "--help"], env);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/usage: gpu-market job run --model <name> --prompt <text>/);
  });
});
