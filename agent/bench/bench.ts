/**
 * npm run bench -w @gpu-market/agent [-- --runs N] [--jobs N] [--parallel N] [--json] [--verbose]
 *
 * On the real stack (localnet and the clients in this process; the model server on the tiny GGUF
 * and the agent, as `gpu-market provider run`, each in its own process, as a provider runs them;
 * a none-dev machine registered with its keyset), measures:
 *
 * 1. One job end to end, split into its steps (medians over --runs sequential jobs):
 *    the client's create_job (sealed request, transaction final), the upload, the agent's
 *    accept_job, inference (first token, whole answer, sealing and signing), the agent's
 *    deliver_job, and the client's check and decryption of the answer.
 * 2. Jobs per second one agent sustains with --jobs jobs in flight at once (created together by
 *    several clients, each uploaded as soon as it exists), from the first create_job sent to the
 *    last delivery the agent journaled (after deliver_job was final), checked on-chain after.
 * 3. The same without a chain (agent-alone.ts): the agent's own ceiling on this backend.
 * 4. The same requests paid through sessions (sessions.ts): the client library opens a session
 *    (one transaction), sends --runs requests with a voucher each (no transaction; median), closes
 *    it; then --jobs requests in flight over one session per client.
 */

import { readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { openResponse } from "@gpu-market/protocol";
import { freePort } from "../../scripts/src/dev/free-port.ts";
import { createAccount } from "../../scripts/test/support/localnet.ts";
import { startAgentProcess, startModelServerProcess } from "../test/support/children.ts";
import {
  type ClientJob,
  createJob,
  type Machine,
  ONE_NEAR,
  registerMachine,
  type Stack,
  startStack,
  waitForStatus,
} from "../test/support/stack.ts";
import { agentAlone } from "./agent-alone.ts";
import { median } from "./median.ts";
import { sessionBench } from "./sessions.ts";

const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "5" },
    jobs: { type: "string", default: "16" },
    parallel: { type: "string", default: "4" },
    json: { type: "boolean", default: false },
    verbose: { type: "boolean", default: false },
  },
});
const runs = Number(values.runs);
const inFlight = Number(values.jobs);
const parallel = Number(values.parallel);
for (const [flag, value] of [
  ["--runs", runs],
  ["--jobs", inFlight],
  ["--parallel", parallel],
] as const) {
  if (!Number.isInteger(value) || value < 1)
    throw new Error(`${flag} must be a positive whole number`);
}

const progress = (line: string) => process.stderr.write(`${line}\n`);

progress(
  "starting localnet, deploying the market, registering a machine, starting the model server ...",
);
const stack: Stack = await startStack();
// Sessions reach the agent at the machine's registered endpoint; jobs are uploaded to agent.url.
const port = await freePort();
const machine: Machine = await registerMachine(
  stack,
  "alice",
  [stack.model],
  `http://127.0.0.1:${port}`,
);
const clients: string[] = [];
for (let i = 0; i < Math.min(inFlight, 8); i++) {
  const client = await createAccount(stack.t, `client${i}`, 60n);
  await stack.t.chain.call(client, stack.escrow, "storage_deposit", {}, { deposit: 3n * ONE_NEAR });
  clients.push(client);
}
const env = { NEAR_CREDENTIALS_DIR: stack.t.creds.dir };
const modelServer = await startModelServerProcess(stack.modelPath, "tiny-llama", () => {});
const dataDir = join(stack.t.dir, "agent");
const agent = await startAgentProcess(
  [
    "run",
    "--rpc-url",
    stack.t.net.rpcUrl,
    "--block-source",
    stack.t.net.rpcUrl,
    "--account",
    machine.provider,
    "--registry",
    stack.registry,
    "--escrow",
    stack.escrow,
    "--machine-key-file",
    machine.keyFile,
    "--model",
    `tiny-llama=${stack.modelPath}`,
    "--backend-url",
    modelServer.url,
    "--listen",
    `127.0.0.1:${port}`,
    "--data-dir",
    dataDir,
    "--max-queue",
    String(Math.max(64, inFlight)),
    "--parallel",
    String(parallel),
    ...(values.verbose ? [] : ["--json"]),
  ],
  env,
  (line) => {
    if (values.verbose) progress(line);
  },
);

/** The agent's journal record of a job: the time it reached each step. */
function stepTimes(id: string): Record<string, number> {
  return (
    JSON.parse(readFileSync(join(dataDir, "jobs", `${id}.json`), "utf8")) as {
      times: Record<string, number>;
    }
  ).times;
}

/** The step times once the agent has journaled `step` (it may see the chain a moment after the client). */
async function journaled(id: string, step: string): Promise<Record<string, number>> {
  for (;;) {
    const times = stepTimes(id);
    if (times[step] !== undefined) return times;
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function upload(cj: ClientJob): Promise<void> {
  const response = await fetch(`${agent.url}/v1/jobs/${cj.job.id}/request`, {
    method: "PUT",
    body: cj.sealed.envelope,
  });
  await response.body?.cancel();
  if (response.status !== 202)
    throw new Error(`upload of job ${cj.job.id}: HTTP ${response.status}`);
}

function created(result: ClientJob | { rejected: string }): ClientJob {
  if ("rejected" in result) throw new Error(`job rejected: ${result.rejected}`);
  return result;
}

/** One job, timed step by step from the client's side and from the agent's journal. */
async function oneJob(client: string, prompt: string) {
  const t0 = Date.now();
  const cj = created(
    await createJob(stack, client, machine, { maxAmount: ONE_NEAR, prompt, maxTokens: 64 }),
  );
  const t1 = Date.now();
  await upload(cj);
  const t2 = Date.now();
  const job = await waitForStatus(stack, cj.job.id, ["delivered"], 120_000);
  const t3 = Date.now();
  const file = await (await fetch(`${agent.url}/v1/jobs/${job.id}/response`)).arrayBuffer();
  openResponse(new Uint8Array(file), cj.sealed.responseKey, cj.sealed.inputHash);
  const t4 = Date.now();
  const times = await journaled(job.id, "delivered");
  const at = (step: string): number => {
    const value = times[step];
    if (value === undefined) throw new Error(`job ${job.id}: no time for ${step}`);
    return value;
  };
  return {
    create_job_ms: t1 - t0,
    upload_ms: t2 - t1,
    accept_job_ms: at("accepted") - at("accepting"),
    decide_ms: at("accepting") - at("envelope"),
    inference_ms: at("sealed") - at("running"),
    deliver_job_ms: at("delivered") - at("sealed"),
    client_sees_delivery_ms: t3 - at("delivered"),
    fetch_and_open_ms: t4 - t3,
    total_ms: t4 - t0,
    tokens: Number(job.usage),
  };
}

progress(`1. ${runs} sequential jobs (after one warm-up)`);
await oneJob(clients[0] as string, "warm-up");
const single: Awaited<ReturnType<typeof oneJob>>[] = [];
for (let i = 0; i < runs; i++) single.push(await oneJob(clients[0] as string, `question ${i}`));
const latency = Object.fromEntries(
  Object.keys(single[0] ?? {}).map((key) => [
    key,
    median(single.map((s) => s[key as keyof typeof s])),
  ]),
) as Record<keyof (typeof single)[number], number>;
const chainMs = latency.create_job_ms + latency.accept_job_ms + latency.deliver_job_ms;

progress(`2. ${inFlight} jobs in flight (${clients.length} clients, --parallel ${parallel})`);
const start = Date.now();
const batch = await Promise.all(
  Array.from({ length: inFlight }, async (_, i) => {
    const cj = created(
      await createJob(stack, clients[i % clients.length] as string, machine, {
        maxAmount: ONE_NEAR,
        prompt: `batch question ${i}`,
        maxTokens: 64,
      }),
    );
    await upload(cj);
    return cj;
  }),
);
const created_ms = Date.now() - start;
// Wait on the agent's journal rather than polling the chain: 16 clients polling views would load
// localnet (which runs every view's contract code) more than the jobs do.
for (const cj of batch) await journaled(cj.job.id, "delivered");
const elapsed = Date.now() - start;
const delivered = await Promise.all(
  batch.map((cj) => waitForStatus(stack, cj.job.id, ["delivered"])),
);
const firstEnvelope = Math.min(...batch.map((cj) => stepTimes(cj.job.id).envelope ?? Infinity));
const lastDelivered = Math.max(...batch.map((cj) => stepTimes(cj.job.id).delivered ?? 0));
const tokens = delivered.reduce((sum, job) => sum + Number(job.usage), 0);

progress(`3. ${inFlight} jobs in flight without a chain (escrow double)`);
const alone = await agentAlone({
  backendUrl: modelServer.url,
  model: stack.model,
  jobs: inFlight,
  parallel,
});

progress(
  `4. sessions: ${runs} requests in one session, then ${inFlight} in flight over ${clients.length} sessions`,
);
const sessions = await sessionBench({
  stack,
  model: stack.model.name,
  clients,
  runs,
  inFlight,
  maxTokens: 64,
});

const result = {
  cpu_load_1m: Number(loadavg()[0]?.toFixed(2)),
  single_job_median: {
    ...latency,
    chain_ms: chainMs,
    inference_share: Number((latency.inference_ms / latency.total_ms).toFixed(3)),
  },
  in_flight: {
    jobs: inFlight,
    parallel,
    all_created_and_uploaded_ms: created_ms,
    elapsed_ms: elapsed,
    jobs_per_s: Number(((inFlight * 1000) / elapsed).toFixed(2)),
    agent_jobs_per_s: Number(((inFlight * 1000) / (lastDelivered - firstEnvelope)).toFixed(2)),
    tokens_per_s: Number(((tokens * 1000) / elapsed).toFixed(1)),
  },
  without_chain: alone,
  sessions,
};
if (values.json) {
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
} else {
  const l = latency;
  process.stdout.write(
    `${[
      `one job (median of ${runs}; ${l.tokens} tokens):`,
      `  create_job (client, final)     ${l.create_job_ms} ms`,
      `  upload the envelope            ${l.upload_ms} ms`,
      `  agent decides (open, checks)   ${l.decide_ms} ms`,
      `  accept_job (agent, final)      ${l.accept_job_ms} ms`,
      `  inference + seal + sign        ${l.inference_ms} ms`,
      `  deliver_job (agent, final)     ${l.deliver_job_ms} ms`,
      `  client sees the delivery       ${l.client_sees_delivery_ms} ms`,
      `  fetch + check + decrypt        ${l.fetch_and_open_ms} ms`,
      `  total                          ${l.total_ms} ms (chain steps ${chainMs} ms, inference ${l.inference_ms} ms)`,
      `${inFlight} jobs in flight (--parallel ${parallel}): ${result.in_flight.jobs_per_s} jobs/s end to end ` +
        `(${elapsed} ms), ${result.in_flight.agent_jobs_per_s} jobs/s from first upload to last delivery, ` +
        `${result.in_flight.tokens_per_s} tokens/s`,
      `${inFlight} jobs in flight without a chain (escrow double): ${alone.jobs_per_s} jobs/s (${alone.elapsed_ms} ms)`,
      `sessions: open_session ${sessions.open_session_ms} ms; a request ${sessions.request_median_ms} ms ` +
        `(median of ${runs}, ${sessions.request_min_ms}-${sessions.request_max_ms}; ${sessions.tokens} tokens; no transaction); ` +
        `close + settle ${sessions.close_and_settle_ms} ms`,
      `${inFlight} session requests in flight over ${sessions.in_flight.sessions} sessions: ` +
        `${sessions.in_flight.requests_per_s} requests/s (${sessions.in_flight.elapsed_ms} ms)`,
      `load average (1 min) ${result.cpu_load_1m}`,
    ].join("\n")}\n`,
  );
}
agent.process.kill("SIGINT");
await agent.exited;
modelServer.process.kill("SIGINT");
await modelServer.exited;
await stack.stop();
