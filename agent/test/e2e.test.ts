/**
 * End to end on localnet, the real stack: the market deployed by the gpu-market CLI's deploy, a
 * none-dev machine registered with its keyset, the model server on a generated tiny GGUF, the
 * agent started in process as `gpu-market provider run` starts it, and a client that seals its
 * request with protocol/ and pays with near-api-js. Every case checks the balances: nothing is lost.
 *
 * One case runs the agent as a child process (the CLI) and kills it with SIGKILL mid-job: the job
 * whose answer had started streaming is failed with a refund (never run twice), the job accepted
 * but not yet started is resumed and delivered exactly once. Its backend is the same model server
 * behind a proxy that slows the stream down, so that the kill lands mid-stream.
 */
import { randomUUID } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { createServer, request as httpRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { Job } from "@gpu-market/common/src/escrow-types.ts";
import { openResponse, sha256Hex, verifyReceipt } from "@gpu-market/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAccount } from "../../scripts/test/support/localnet.ts";
import { parseCommand, type RunConfig } from "../src/config.ts";
import { createLogger } from "../src/log.ts";
import { type RunningProvider, startProvider } from "../src/runtime.ts";
import { Journal } from "../src/store/journal.ts";
import { DAY_MS } from "../src/store/retention.ts";
import { runAgentCli, startAgentProcess } from "./support/children.ts";
import { jobRecord } from "./support/records.ts";
import {
  type ClientJob,
  createJob,
  escrowBalance,
  type Machine,
  ONE_NEAR,
  PRICE,
  registerMachine,
  registerWithCli,
  type Stack,
  setBackend,
  startStack,
  viewJob,
  waitForStatus,
} from "./support/stack.ts";

const ABSENT_MODEL = { name: "absent-model", weights_sha256: "ee".repeat(32) };
const MARKER = `marker-${randomUUID()}`;
const OLD_JOB = "999999";

let stack: Stack;
let machine: Machine;
let client: string;
let agent: RunningProvider;
let dataDir: string;
const logs: string[] = [];
const childLogs: string[] = [];
const answers: string[] = [];
const env = () => ({ NEAR_CREDENTIALS_DIR: stack.t.creds.dir });

function runConfig(m: Machine, dir: string, backendUrl: string, extra: string[] = []): string[] {
  return [
    "run",
    "--network",
    "localnet",
    "--rpc-url",
    stack.t.net.rpcUrl,
    "--block-source",
    stack.t.net.rpcUrl,
    "--account",
    m.provider,
    "--registry",
    stack.registry,
    "--escrow",
    stack.escrow,
    "--machine-key-file",
    m.keyFile,
    ...(m.evidenceFile === null ? [] : ["--evidence-file", m.evidenceFile]),
    "--model",
    `tiny-llama=${stack.modelPath}`,
    "--backend-url",
    backendUrl,
    "--listen",
    "127.0.0.1:0",
    "--data-dir",
    dir,
    "--json",
    ...extra,
  ];
}

beforeAll(async () => {
  stack = await startStack();
  machine = await registerMachine(
    stack,
    "alice",
    [stack.model, ABSENT_MODEL],
    "http://127.0.0.1:1/",
  );
  client = await createAccount(stack.t, "bob", 40n);
  await stack.t.chain.call(client, stack.escrow, "storage_deposit", {}, { deposit: ONE_NEAR });
  dataDir = join(stack.t.dir, "agent-alice");
  // A job this data dir finished 40 days ago: pruned at start (--retain-days defaults to 30).
  new Journal(dataDir).put(
    jobRecord(OLD_JOB, "delivered", Date.now() - 40 * DAY_MS, "ef".repeat(32)),
  );
  const backendUrl = await setBackend(stack, true);
  const parsed = parseCommand(runConfig(machine, dataDir, backendUrl), env());
  agent = await startProvider((parsed as { config: RunConfig }).config, {
    log: createLogger({ json: true, write: (line) => logs.push(line) }),
    env: env(),
  });
});

afterAll(async () => {
  await agent?.stop(1000);
  await stack?.stop();
});

async function put(url: string, id: string, body: Uint8Array): Promise<number> {
  const response = await fetch(`${url}/v1/jobs/${id}/request`, { method: "PUT", body });
  await response.body?.cancel();
  return response.status;
}

function created(result: ClientJob | { rejected: string }): ClientJob {
  if ("rejected" in result) throw new Error(`the escrow rejected the job: ${result.rejected}`);
  return result;
}

/** What the client does once the job is delivered: fetch, check everything against the chain, open. */
async function checkDelivery(
  url: string,
  m: Machine,
  cj: ClientJob,
): Promise<{ job: Job; answer: string }> {
  const job = await waitForStatus(stack, cj.job.id, ["delivered"]);
  const response = await fetch(`${url}/v1/jobs/${job.id}/response`);
  expect(response.status).toBe(200);
  const file = new Uint8Array(await response.arrayBuffer());
  expect(sha256Hex(file)).toBe(job.result_hash);
  expect(job.input_hash).toBe(cj.sealed.inputHash);
  const receipt = {
    escrow: stack.escrow,
    job_id: job.id,
    model: job.model_name ?? "",
    weights_sha256: stack.model.weights_sha256,
    request_sha256: job.input_hash,
    response_sha256: job.result_hash ?? "",
    prompt_tokens: job.prompt_tokens ?? "",
    completion_tokens: job.completion_tokens ?? "",
    chunks: job.chunks ?? "",
  };
  expect(job.model_name).toBe("tiny-llama");
  expect(verifyReceipt(receipt, job.signature ?? "", m.signingKey)).toBe(true);
  const opened = openResponse(file, cj.sealed.responseKey, cj.sealed.inputHash);
  expect(opened.frames).toBe(Number(job.chunks));
  expect(BigInt(job.usage ?? "0")).toBe(
    BigInt(job.prompt_tokens ?? "0") + BigInt(job.completion_tokens ?? "0"),
  );
  answers.push(opened.content);
  return { job, answer: opened.content };
}

/** Confirms and checks the split: provider credited amount_due less the fee, the rest refunded. */
async function confirmAndCheck(job: Job, provider: string): Promise<void> {
  const before = {
    provider: await escrowBalance(stack, provider),
    client: await escrowBalance(stack, client),
    treasury: await escrowBalance(stack, stack.treasury),
  };
  await stack.t.chain.call(client, stack.escrow, "confirm_job", { job_id: job.id });
  const due = BigInt(job.amount_due ?? "0");
  const fee = (due * BigInt(stack.feeBps)) / 10_000n;
  expect(await escrowBalance(stack, provider)).toBe(before.provider + due - fee);
  expect(await escrowBalance(stack, stack.treasury)).toBe(before.treasury + fee);
  expect(await escrowBalance(stack, client)).toBe(before.client + BigInt(job.max_amount) - due);
  expect((await viewJob(stack, job.id)).status).toBe("settled");
}

async function expectRefunded(id: string, code: string | null, reason: string): Promise<void> {
  const job = await waitForStatus(stack, id, ["refunded"]);
  expect(job.refund_reason).toBe(reason);
  expect(job.failure_code).toBe(code);
  expect(job.client_refund).toBe(job.max_amount);
  expect(job.provider_payout).toBe("0");
}

describe("the agent on localnet", () => {
  it("serves a job: accepted, answered, delivered with a receipt the escrow and the client check", async () => {
    const cj = created(
      await createJob(stack, client, machine, {
        maxAmount: ONE_NEAR,
        prompt: `Tell me about ${MARKER}`,
      }),
    );
    expect(await put(agent.url, cj.job.id, cj.sealed.envelope)).toBe(202);
    const { job, answer } = await checkDelivery(agent.url, machine, cj);
    expect(answer.length).toBeGreaterThan(0);
    const usage = BigInt(job.usage ?? "0");
    expect(usage).toBeGreaterThan(0n);
    expect(job.amount_due).toBe((usage * PRICE < ONE_NEAR ? usage * PRICE : ONE_NEAR).toString());
    await confirmAndCheck(job, machine.provider);
    const status = await (await fetch(`${agent.url}/v1/jobs/${job.id}`)).json();
    expect(status).toMatchObject({ status: "delivered", response_sha256: job.result_hash });
    const health = await (await fetch(`${agent.url}/health`)).json();
    expect(health).toMatchObject({
      ok: true,
      queue: { active: 0 },
      machines: [{ machine_id: machine.machineId }],
    });
  });

  it("prunes at start what finished over --retain-days ago (30 by default)", async () => {
    expect(logs.join("\n")).toContain(
      "pruned 1 job(s) and 0 session(s) finished over 30 day(s) ago",
    );
    expect(existsSync(join(dataDir, "jobs", `${OLD_JOB}.json`))).toBe(false);
    expect((await fetch(`${agent.url}/v1/jobs/${OLD_JOB}`)).status).toBe(404);
  });

  it("several jobs at once: each accepted, run and delivered (the agent's transactions go out in nonce order)", async () => {
    const jobs: ClientJob[] = [];
    for (let i = 0; i < 6; i++) {
      jobs.push(
        created(
          await createJob(stack, client, machine, { maxAmount: ONE_NEAR, prompt: `question ${i}` }),
        ),
      );
    }
    const started = Date.now();
    await Promise.all(jobs.map((cj) => put(agent.url, cj.job.id, cj.sealed.envelope)));
    for (const cj of jobs) await checkDelivery(agent.url, machine, cj);
    // Well under localnet's 10 s transaction timeout: no transaction of the agent was dropped.
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(logs.join("\n")).not.toContain("does not answer");
    for (const cj of jobs) await confirmAndCheck(await viewJob(stack, cj.job.id), machine.provider);
  });

  it("amount_due is capped at the job's maximum", async () => {
    const max = 3n * PRICE;
    const cj = created(
      await createJob(stack, client, machine, { maxAmount: max, prompt: "a short one" }),
    );
    await put(agent.url, cj.job.id, cj.sealed.envelope);
    const { job } = await checkDelivery(agent.url, machine, cj);
    expect(BigInt(job.usage ?? "0") * PRICE).toBeGreaterThan(max);
    expect(job.amount_due).toBe(max.toString());
    await confirmAndCheck(job, machine.provider);
  });

  it("a model outside the keyset: the escrow refuses to create the job; one the agent does not serve: model_unavailable", async () => {
    const before = await stack.t.chain.balance(client);
    const unknown = await createJob(stack, client, machine, {
      maxAmount: ONE_NEAR,
      prompt: "hi",
      model: { name: "nowhere", weights_sha256: "ab".repeat(32) },
    });
    expect(unknown).toEqual({
      rejected: `machine ${machine.machineId} does not serve model ${"ab".repeat(32)} (no attested model has these weights)`,
    });
    const after = await stack.t.chain.balance(client);
    // The attached NEAR came back; only gas was spent.
    expect((before?.available ?? 0n) - (after?.available ?? 0n)).toBeLessThan(ONE_NEAR / 20n);

    const escrowBefore = await escrowBalance(stack, client);
    const cj = created(
      await createJob(stack, client, machine, {
        maxAmount: ONE_NEAR,
        prompt: "hi",
        model: ABSENT_MODEL,
      }),
    );
    await expectRefunded(cj.job.id, "model_unavailable", "provider_failed");
    expect(await escrowBalance(stack, client)).toBe(escrowBefore + ONE_NEAR);
  });

  it("a bad envelope (the committed bytes are no envelope): bad_request, refunded", async () => {
    const garbage = new TextEncoder().encode('{"version":"not a request"}');
    const escrowBefore = await escrowBalance(stack, client);
    const cj = created(
      await createJob(stack, client, machine, {
        maxAmount: ONE_NEAR,
        prompt: "hi",
        inputBytes: garbage,
      }),
    );
    expect(await put(agent.url, cj.job.id, cj.sealed.envelope)).toBe(400);
    expect(await put(agent.url, cj.job.id, garbage)).toBe(202);
    await expectRefunded(cj.job.id, "bad_request", "provider_failed");
    expect(await escrowBalance(stack, client)).toBe(escrowBefore + ONE_NEAR);
  });

  it("no upload before the accept deadline: never accepted, the client reclaims everything", async () => {
    const escrowBefore = await escrowBalance(stack, client);
    const cj = created(
      await createJob(stack, client, machine, {
        maxAmount: ONE_NEAR,
        prompt: "hi",
        acceptWithinS: 2,
      }),
    );
    await sleep(3000);
    expect((await viewJob(stack, cj.job.id)).status).toBe("requested");
    await stack.t.chain.call(client, stack.escrow, "reclaim_job", { job_id: cj.job.id });
    await expectRefunded(cj.job.id, null, "accept_timeout");
    expect(await escrowBalance(stack, client)).toBe(escrowBefore + ONE_NEAR);
    expect(await put(agent.url, cj.job.id, cj.sealed.envelope)).toBe(409);
  });

  it("the backend down: backend_unavailable, refunded; served again once it is back", async () => {
    await setBackend(stack, false);
    const escrowBefore = await escrowBalance(stack, client);
    const cj = created(
      await createJob(stack, client, machine, { maxAmount: ONE_NEAR, prompt: "hi" }),
    );
    await put(agent.url, cj.job.id, cj.sealed.envelope);
    await expectRefunded(cj.job.id, "backend_unavailable", "provider_failed");
    expect(await escrowBalance(stack, client)).toBe(escrowBefore + ONE_NEAR);
    expect((await fetch(`${agent.url}/health`)).status).toBe(503);
    await setBackend(stack, true);
    const next = created(
      await createJob(stack, client, machine, { maxAmount: ONE_NEAR, prompt: "again" }),
    );
    await put(agent.url, next.job.id, next.sealed.envelope);
    const { job } = await checkDelivery(agent.url, machine, next);
    await confirmAndCheck(job, machine.provider);
  });

  it("killed mid-job and restarted: the streaming job is failed with a refund, the accepted one delivered once", async () => {
    // Registered with register-provider itself: the agent serves from the key file it writes.
    const carol = await registerWithCli(stack, "carol", "http://127.0.0.1:1/");
    const proxy = await slowProxy(`http://127.0.0.1:${stack.modelPort}`, 300);
    const dir = join(stack.t.dir, "agent-carol");
    const args = runConfig(carol, dir, proxy.url, ["--parallel", "1"]);
    let child = await startAgentProcess(args, env(), (line) => childLogs.push(line));
    try {
      // No --evidence-file: the agent serves the evidence register-provider kept beside the key.
      const registered = await stack.t.chain.view<{ evidence: { hash: string } }>(
        stack.registry,
        "machine",
        { machine_id: carol.machineId },
      );
      const attestation = await fetch(`${child.url}/v1/attestation?machine_id=${carol.machineId}`);
      expect(attestation.status).toBe(200);
      const served = new Uint8Array(await attestation.arrayBuffer());
      expect(sha256Hex(served)).toBe(registered.evidence.hash);
      expect(served).toEqual(new Uint8Array(readFileSync(`${carol.keyFile}.evidence`)));
      const escrowBefore = await escrowBalance(stack, client);
      const a = created(
        await createJob(stack, client, carol, { maxAmount: ONE_NEAR, prompt: "first" }),
      );
      expect(await put(child.url, a.job.id, a.sealed.envelope)).toBe(202);
      await journalState(dir, a.job.id, ["running"]);
      const b = created(
        await createJob(stack, client, carol, { maxAmount: ONE_NEAR, prompt: "second" }),
      );
      expect(await put(child.url, b.job.id, b.sealed.envelope)).toBe(202);
      await journalState(dir, b.job.id, ["accepted"]);
      child.process.kill("SIGKILL");
      await child.exited;

      child = await startAgentProcess(args, env(), (line) => childLogs.push(line));
      await expectRefunded(a.job.id, "inference_error", "provider_failed");
      const { job } = await checkDelivery(child.url, carol, b);
      const deliveredLines = childLogs.filter((l) => l.includes(`"job ${b.job.id}: delivered"`));
      expect(deliveredLines).toHaveLength(1);
      expect(await escrowBalance(stack, client)).toBe(escrowBefore + ONE_NEAR);
      await confirmAndCheck(job, carol.provider);

      child.process.kill("SIGINT");
      expect(await child.exited).toBe(0);
      expect(childLogs.some((l) => l.includes('"stopped"'))).toBe(true);
    } finally {
      child.process.kill("SIGKILL");
      await proxy.close();
    }
  });

  it("provider withdraw and status (the CLI): the earnings leave the escrow for the provider's account", async () => {
    const credited = await escrowBalance(stack, machine.provider);
    expect(credited).toBeGreaterThan(0n);
    const before = (await stack.t.chain.balance(machine.provider))?.available ?? 0n;
    const common = [
      "--rpc-url",
      stack.t.net.rpcUrl,
      "--escrow",
      stack.escrow,
      "--registry",
      stack.registry,
      "--account",
      machine.provider,
      "--json",
    ];
    const withdrawn = await runAgentCli(["withdraw", ...common], env());
    expect(withdrawn.code, withdrawn.stderr).toBe(0);
    expect(JSON.parse(withdrawn.stdout)).toMatchObject({ ok: true, amount: credited.toString() });
    expect(await escrowBalance(stack, machine.provider)).toBe(0n);
    const after = (await stack.t.chain.balance(machine.provider))?.available ?? 0n;
    expect(after - before).toBeGreaterThan(credited - ONE_NEAR / 100n);
    const again = await runAgentCli(["withdraw", ...common], env());
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`${machine.provider} has no NEAR credited`);
    const status = await runAgentCli(["status", "--data-dir", dataDir, ...common], env());
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({
      ok: true,
      balance_yocto: "0",
      jobs: { delivered: 9, failed: 3, closed: 1 },
    });
  });

  it("the operator's side never holds the plaintext: not in the logs, the data dir, or the chain", async () => {
    const needles = [MARKER, ...answers.filter((a) => a.length >= 8)];
    expect(needles.length).toBeGreaterThan(1);
    const haystacks: { where: string; text: string }[] = [
      { where: "agent logs", text: logs.join("\n") },
      { where: "child agent logs", text: childLogs.join("\n") },
    ];
    for (const dir of [dataDir, join(stack.t.dir, "agent-carol")]) {
      for (const file of walk(dir)) {
        haystacks.push({
          where: file,
          text: readFileSync(file).toString("latin1") + readFileSync(file, "utf8"),
        });
      }
    }
    const final = (await stack.t.chain.provider.viewBlock({ finality: "final" })).header.height;
    for (let height = 0; height <= final; height++) {
      const response = await fetch(`${stack.t.net.rpcUrl}/v0/block/${height}`);
      const text = await response.text();
      if (text === "null" || response.status !== 200) continue;
      // Function-call arguments travel base64-encoded: look inside them too.
      const decoded = [...text.matchAll(/"args":"([A-Za-z0-9+/=]+)"/g)].map((m) =>
        Buffer.from(m[1] ?? "", "base64").toString("utf8"),
      );
      haystacks.push({ where: `block ${height}`, text: text + decoded.join("\n") });
    }
    expect(
      haystacks.some((h) => h.text.includes('"job_delivered"') || h.text.includes("job_delivered")),
    ).toBe(true);
    for (const needle of needles) {
      const found = haystacks.filter((h) => h.text.includes(needle)).map((h) => h.where);
      expect(found, `"${needle}" found in`).toEqual([]);
    }
  });
});

function walk(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

async function journalState(
  dir: string,
  id: string,
  states: string[],
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const path = join(dir, "jobs", `${id}.json`);
  for (;;) {
    if (existsSync(path)) {
      const state = (JSON.parse(readFileSync(path, "utf8")) as { state: string }).state;
      if (states.includes(state)) return;
    }
    if (Date.now() > deadline)
      throw new Error(`job ${id} never reached ${states.join("|")}\n${childLogs.join("\n")}`);
    await sleep(20);
  }
}

/** Forwards to the model server, holding each server-sent event back by `delayMs`. */
async function slowProxy(
  target: string,
  delayMs: number,
): Promise<{ url: string; close(): Promise<void> }> {
  const upstream = new URL(target);
  const server: Server = createServer((req, res) => {
    const forward = httpRequest(
      {
        host: upstream.hostname,
        port: upstream.port,
        path: req.url,
        method: req.method,
        headers: req.headers,
      },
      async (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        let pending = "";
        for await (const chunk of answer) {
          pending += (chunk as Buffer).toString("utf8");
          let end = pending.indexOf("\n\n");
          while (end >= 0) {
            await sleep(delayMs);
            res.write(pending.slice(0, end + 2));
            pending = pending.slice(end + 2);
            end = pending.indexOf("\n\n");
          }
        }
        res.end(pending);
      },
    );
    forward.on("error", () => res.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
