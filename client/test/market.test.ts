/**
 * market.infer() end to end against an in-memory chain (fake-chain.ts) and an in-test agent
 * speaking the agent's HTTP API with the real protocol: the happy path, and each way a job ends
 * otherwise (refused, failed by the provider, a bad delivery disputed, a silent provider reclaimed,
 * an upload refused and the job cancelled, a dev machine refused).
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Job } from "@gpu-market/common/src/escrow-types.ts";
import { sha256Hex } from "@gpu-market/protocol";
import { afterEach, describe, expect, it } from "vitest";
import { ClientError } from "../src/errors.ts";
import { GpuMarket } from "../src/market.ts";
import type { InferRequest, ProgressStep } from "../src/types.ts";
import { ESCROW, FakeChain } from "./support/fake-chain.ts";
import { type FakeMachine, fakeMachine, REGISTRY, TINY } from "./support/fake-registry.ts";
import { type Answer, answer, delivered } from "./support/provider.ts";

type Behaviour = "deliver" | "slow" | "fail" | "silent" | "refuse" | "tamper" | "closed";

let server: Server | undefined;
afterEach(() => {
  server?.closeAllConnections();
  server?.close();
  server = undefined;
});

interface Setup {
  chain: FakeChain;
  machine: FakeMachine;
  market: GpuMarket;
  envelopes: Map<string, Buffer>;
  attestation: Uint8Array;
}

/** A chain with one machine whose provider endpoint is an in-test agent behaving as told. */
async function setup(
  behaviour: Behaviour,
  spec: Parameters<typeof fakeMachine>[1] = {},
): Promise<Setup> {
  const envelopes = new Map<string, Buffer>();
  const answers = new Map<string, Answer>();
  const s = { envelopes, attestation: new Uint8Array([1]) } as Setup;
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", async () => {
      const [, , , id, what] = (req.url ?? "").split("/");
      if (req.url === "/v1/attestation?machine_id=0") return res.end(s.attestation);
      const job = s.chain.jobs.get(id ?? "");
      if (job === undefined) return res.writeHead(404).end("unknown job");
      if (req.method === "PUT" && what === "request") {
        if (behaviour === "refuse") return res.writeHead(409).end("input_hash mismatch");
        envelopes.set(job.id, Buffer.concat(chunks));
        res.writeHead(204).end();
        await act(s, behaviour, job, answers);
        return;
      }
      const a = answers.get(job.id);
      if (a === undefined) return res.writeHead(404).end("not delivered");
      if (what === "response") {
        return res.end(behaviour === "tamper" ? Buffer.from(a.file).fill(0x41, 20, 30) : a.file);
      }
      if (what === "stream") {
        res.writeHead(200);
        for (const frame of a.frames) {
          res.write(frame);
          if (behaviour === "slow") await new Promise((resolve) => setTimeout(resolve, 50));
        }
        return res.end();
      }
      res.writeHead(404).end();
    });
  });
  await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  s.machine = fakeMachine(0, { endpoint: url, price: "1000", ...spec });
  s.chain = new FakeChain([s.machine]);
  s.market = new GpuMarket({
    registry: REGISTRY,
    escrow: ESCROW,
    chain: s.chain,
    pollIntervalMs: 10,
  });
  return s;
}

/** What the provider does once it has the request, as the chain would record it. */
async function act(s: Setup, behaviour: Behaviour, job: Job, answers: Map<string, Answer>) {
  const envelope = s.envelopes.get(job.id) ?? Buffer.alloc(0);
  if (behaviour === "deliver" || behaviour === "tamper" || behaviour === "slow") {
    const a = await answer(job, ESCROW, envelope, s.machine.secrets, TINY.name);
    answers.set(job.id, a);
    // "slow": the frames stream for a while before the delivery lands on-chain.
    const deliver = () => s.chain.jobs.set(job.id, delivered(job, a, s.chain.now));
    if (behaviour === "slow") setTimeout(deliver, 1500);
    else deliver();
  } else if (behaviour === "closed") {
    // Delivered, then settled by the payer's other session before this client looks.
    const a = await answer(job, ESCROW, envelope, s.machine.secrets, TINY.name);
    answers.set(job.id, a);
    s.chain.jobs.set(job.id, { ...delivered(job, a, s.chain.now), status: "settled" });
  } else if (behaviour === "fail") {
    s.chain.jobs.set(job.id, {
      ...job,
      status: "refunded",
      refund_reason: "provider_failed",
      failure_code: "model_unavailable",
      client_refund: job.max_amount,
    });
  } else if (behaviour === "silent") {
    s.chain.now = BigInt(job.accept_deadline) + 1n;
  }
}

const REQUEST: InferRequest & { mode: "job" } = {
  mode: "job",
  model: "tiny-llama",
  messages: [{ role: "user", content: "Hi" }],
  maxAmount: "1000000000000000000000",
  maxTokens: 16,
};

async function fails(
  promise: Promise<unknown>,
  code: string,
  message: RegExp,
): Promise<ClientError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ClientError);
  expect((error as ClientError).message).toMatch(message);
  expect((error as ClientError).code).toBe(code);
  return error as ClientError;
}

function methods(chain: FakeChain): string[] {
  return chain.calls.map((c) => c.method);
}

describe("market.infer", () => {
  it("with confirm: false checks the delivery and leaves the job delivered (no confirm transaction)", async () => {
    const s = await setup("deliver");
    const result = await s.market.infer({ ...REQUEST, maxAmount: 10n ** 21n, confirm: false });
    expect(result.text).toBe("Hello, world.");
    expect(result.txHashes).toEqual({ createJob: "tx1" });
    expect(methods(s.chain)).toEqual(["create_job"]);
  });

  it("runs a job: encrypts, pays, uploads, streams, checks the delivery, decrypts and confirms", async () => {
    const s = await setup("deliver");
    const steps: ProgressStep[] = [];
    const tokens: string[] = [];
    const result = await s.market.infer({
      ...REQUEST,
      maxAmount: 10n ** 21n,
      onProgress: (step) => steps.push(step),
      onToken: (text) => tokens.push(text),
    });
    expect(result).toMatchObject({
      text: "Hello, world.",
      finishReason: "stop",
      jobId: "0",
      machineId: "0",
      provider: "p0.test.near",
      model: "tiny-llama",
      weightsSha256: TINY.weights_sha256,
      usage: { promptTokens: 12, completionTokens: 6 },
      amountDue: "18000",
      refunded: (10n ** 21n - 18000n).toString(),
      asset: "NEAR",
      txHashes: { createJob: "tx1", confirmJob: "tx2" },
      attestation: null,
    });
    expect(tokens.join("")).toBe("Hello, world.");
    expect(methods(s.chain)).toEqual(["create_job", "confirm_job"]);
    const create = s.chain.calls[0];
    expect(create?.options.deposit).toBe(10n ** 21n);
    const envelope = s.envelopes.get("0") ?? Buffer.alloc(0);
    expect(create?.args).toEqual({
      machine_id: "0",
      model_hash: TINY.weights_sha256,
      input_hash: sha256Hex(envelope),
      keyset_sha256: (s.machine.machine as unknown as { keyset_sha256: string }).keyset_sha256,
      accept_within_ns: "120000000000",
      deliver_within_ns: "600000000000",
      // The machine's price as read: the escrow refuses a job repriced before its callback.
      max_price_per_unit: "1000",
    });
    // The prompt never leaves in the clear.
    expect(envelope.toString()).not.toContain("Hi");
    expect(steps.map((s) => s.step)).toEqual(
      expect.arrayContaining([
        "selecting_machine",
        "machine_selected",
        "encrypting",
        "creating_job",
        "job_created",
        "uploading_request",
        "request_uploaded",
        "job_status",
        "fetching_response",
        "verifying_delivery",
        "confirming",
      ]),
    );
    expect(steps.find((s) => s.step === "job_created")).toMatchObject({
      jobId: "0",
      txHash: "tx1",
    });
    expect(s.chain.jobs.get("0")?.status).toBe("settled");
  });

  it("streams the answer frame by frame while the job runs", async () => {
    const s = await setup("slow");
    const tokens: string[] = [];
    const result = await s.market.infer({ ...REQUEST, onToken: (text) => tokens.push(text) });
    expect(tokens).toEqual(["Hello", ", ", "world."]);
    expect(result.text).toBe("Hello, world.");
  });

  it("tops up the escrow storage balance first when it cannot pay for the job record", async () => {
    const s = await setup("deliver");
    s.chain.storage = null;
    const result = await s.market.infer({ ...REQUEST, machine: "0", maxPricePerUnit: "1000" });
    expect(methods(s.chain)).toEqual(["storage_deposit", "create_job", "confirm_job"]);
    expect(s.chain.calls[0]?.options.deposit).toBe(18n * 10n ** 22n);
    expect(s.chain.calls[1]?.args.max_price_per_unit).toBe("1000");
    expect(result.txHashes).toEqual({ storageDeposit: "tx1", createJob: "tx2", confirmJob: "tx3" });
  });

  it("pays from the prepaid balance or with a token when asked", async () => {
    const s = await setup("deliver");
    await s.market.infer({ ...REQUEST, payment: { from: "balance" } });
    expect(s.chain.calls[0]?.args).toMatchObject({ asset: "NEAR", max_amount: REQUEST.maxAmount });
    expect(s.chain.calls[0]?.options.deposit).toBeUndefined();
  });

  it("reports the escrow's refusal, with the deposit returned", async () => {
    const s = await setup("deliver");
    s.chain.rejectReason = "the machine's keyset changed: encrypt again";
    const error = await fails(
      s.market.infer(REQUEST),
      "job_rejected",
      /the escrow refused the job: the machine's keyset changed: encrypt again \(the amount went back to alice.test.near\)/,
    );
    expect(error.refunded).toBe(true);
  });

  it("reports a job the provider failed, with its code and the refund credited", async () => {
    const s = await setup("fail");
    const error = await fails(
      s.market.infer(REQUEST),
      "job_failed",
      /the provider gave job 0 back unserved \(model_unavailable\); 1000000000000000000000 NEAR was credited to alice.test.near's escrow balance: withdraw it with market.withdraw\(\)/,
    );
    expect(error).toMatchObject({ jobId: "0", refunded: true, failureCode: "model_unavailable" });
    expect(methods(s.chain)).toEqual(["create_job"]);
  });

  it("disputes a delivery whose response file does not match the signed receipt", async () => {
    const s = await setup("tamper");
    const error = await fails(
      s.market.infer(REQUEST),
      "disputed",
      /job 0: the response file's sha256 [0-9a-f]{64} is not the receipt's response_sha256 [0-9a-f]{64}; disputed, the arbiter decides/,
    );
    expect(error.jobId).toBe("0");
    expect(methods(s.chain)).toEqual(["create_job", "dispute_job"]);
    expect(s.chain.jobs.get("0")?.dispute_reason).toMatch(/^the response file's sha256/);
  });

  it("reclaims a job the provider leaves past its deadline", async () => {
    const s = await setup("silent");
    const error = await fails(
      s.market.infer(REQUEST),
      "deadline_passed",
      /the provider missed job 0's deadline; reclaimed: 1000000000000000000000 NEAR credited/,
    );
    expect(error).toMatchObject({ jobId: "0", refunded: true });
    expect(methods(s.chain)).toEqual(["create_job", "reclaim_job"]);
    expect(s.chain.jobs.get("0")?.status).toBe("refunded");
  });

  it("cancels the job when the endpoint refuses the request", async () => {
    const s = await setup("refuse");
    const error = await fails(
      s.market.infer(REQUEST),
      "endpoint_error",
      /HTTP 409 input_hash mismatch; job 0 was cancelled and 1000000000000000000000 NEAR credited/,
    );
    expect(error).toMatchObject({ jobId: "0", refunded: true });
    expect(methods(s.chain)).toEqual(["create_job", "cancel_job"]);
  });

  it("rides out a flaky RPC while waiting, and reports a job someone else closed", async () => {
    const s = await setup("deliver");
    const view = s.chain.view.bind(s.chain);
    let failures = 0;
    s.chain.view = async <T>(contract: string, method: string, args: Record<string, unknown>) => {
      if (method === "job" && failures < 3) {
        failures += 1;
        throw new ClientError("rpc_error", "cannot reach the NEAR RPC at http://rpc: fetch failed");
      }
      return view<T>(contract, method, args);
    };
    const steps: ProgressStep[] = [];
    const result = await s.market.infer({ ...REQUEST, onProgress: (step) => steps.push(step) });
    expect(result.text).toBe("Hello, world.");
    expect(steps.filter((step) => /fetch failed; retrying/.test(step.message))).toHaveLength(3);
  });

  it("reports a delivered job someone else closed before this client could confirm it", async () => {
    const s = await setup("closed");
    const error = await fails(
      s.market.infer(REQUEST),
      "job_closed",
      /job 0 is already settled: it can no longer be confirmed or disputed here/,
    );
    expect(error.jobId).toBe("0");
    expect(methods(s.chain)).toEqual(["create_job"]);
  });

  it("refuses bad input before touching the chain", async () => {
    const s = await setup("deliver");
    const cases: [Partial<InferRequest>, RegExp][] = [
      [
        { maxAmount: 5 as unknown as string },
        /maxAmount: expected a whole number of base units .* got number/,
      ],
      [{ maxAmount: "1.5" }, /maxAmount: .* got "1.5"/],
      [{ maxAmount: "0" }, /maxAmount: must be greater than 0/],
      [{ maxAmount: (1n << 128n).toString() }, /maxAmount: \d+ is not a u128/],
      [{ maxTokens: 0 }, /maxTokens: expected an integer from 1 to 32768/],
      [{ messages: [] }, /request.messages: expected 1 to 256 messages/],
      [{ machine: "first" }, /machine: "first" is not a machine id/],
      [{ acceptWithinSeconds: 1.5 }, /acceptWithinSeconds: expected a whole number of seconds/],
      [
        { payment: { from: "token", token: "NOT A TOKEN" } },
        /payment.token: "NOT A TOKEN" is not a token account/,
      ],
      [{ model: "" }, /model: expected a model name/],
    ];
    for (const [change, message] of cases) {
      await fails(s.market.infer({ ...REQUEST, ...change }), "bad_input", message);
    }
    expect(s.chain.calls).toEqual([]);
    expect(s.chain.views).toEqual([]);
  });

  it("refuses a dev machine with verifyAttestation unless allowDevMachines", async () => {
    const s = await setup("deliver", { teeType: "none-dev" });
    const keyset = (s.machine.machine as unknown as { keyset_sha256: string }).keyset_sha256;
    const report = JSON.stringify({ report_data: `${keyset}${s.machine.machine.evidence.nonce}` });
    const body = new TextEncoder().encode(report);
    const head = Buffer.from([3, body.length, 0, 0, 0]);
    s.attestation = new Uint8Array(
      Buffer.concat([Buffer.from("GMEV"), Buffer.from([1]), head, body]),
    );
    s.machine.machine.evidence.hash = sha256Hex(s.attestation);
    await fails(
      s.market.infer({ ...REQUEST, machine: "0", verifyAttestation: true }),
      "dev_machine",
      /machine 0 is a none-dev machine/,
    );
    expect(s.chain.calls).toEqual([]);
    // Choosing by itself with verifyAttestation skips dev machines altogether.
    await fails(
      s.market.infer({ ...REQUEST, verifyAttestation: true }),
      "no_machine",
      /tiny-llama/,
    );
    const result = await s.market.infer({
      ...REQUEST,
      verifyAttestation: true,
      allowDevMachines: true,
    });
    expect(result.attestation).toMatchObject({ teeType: "none-dev", tcbStatus: "dev" });
  });

  it("withdraws what was credited, and says when nothing is", async () => {
    const s = await setup("deliver");
    await fails(s.market.withdraw(), "bad_input", /alice.test.near has no NEAR credited/);
  });
});
