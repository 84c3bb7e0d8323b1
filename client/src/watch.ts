/**
 * Waiting for a job: polls the escrow until the job is delivered, and ends it otherwise. A failed
 * job (fail_job) or one refunded another way becomes a typed error; a missed accept or deliver
 * deadline (in block time) is reclaimed. Streaming reads the answer's frames from the endpoint
 * while the job runs, for display only: the delivered file is what gets checked.
 */
import type { Job } from "@gpu-market/common/src/escrow-types.ts";
import { ResponseReader } from "@gpu-market/protocol";
import type { MarketChain } from "./chain.ts";
import type { ProviderEndpoint } from "./endpoint.ts";
import { ClientError, clientError, messageOf } from "./errors.ts";
import { getJob, jobAction } from "./escrow.ts";
import type { ProgressStep } from "./types.ts";

export type Report = (step: Omit<ProgressStep, "jobId">) => void;

export interface WatchContext {
  chain: MarketChain;
  escrow: string;
  jobId: string;
  pollMs: number;
  report: Report;
}

/** Consecutive failed polls before waiting gives up (the job stays open on-chain). */
const MAX_RPC_FAILURES = 10;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function describe(job: Job): string {
  switch (job.status) {
    case "requested":
      return `requested; the provider may accept until ${job.accept_deadline}`;
    case "accepted":
      return `accepted; the provider must deliver by ${job.deliver_deadline}`;
    case "delivered":
      return `delivered (usage ${job.usage}, due ${job.amount_due}; disputable until ${job.dispute_deadline})`;
    default:
      return job.status;
  }
}

function refundError(job: Job): never {
  const credited = `${job.client_refund ?? job.max_amount} ${job.asset} was credited to ${job.payer}'s escrow balance: withdraw it with market.withdraw()`;
  if (job.refund_reason === "provider_failed") {
    return clientError(
      "job_failed",
      `the provider gave job ${job.id} back unserved (${job.failure_code ?? "no code"}); ${credited}`,
      { jobId: job.id, refunded: true, failureCode: job.failure_code ?? undefined },
    );
  }
  return clientError(
    "job_refunded",
    `job ${job.id} was refunded (${job.refund_reason}); ${credited}`,
    {
      jobId: job.id,
      refunded: true,
    },
  );
}

/** The open deadline of a requested or accepted job, in block time (ns). */
function deadlineOf(job: Job): bigint | null {
  if (job.status === "requested") return BigInt(job.accept_deadline);
  if (job.status === "accepted" && job.deliver_deadline !== null)
    return BigInt(job.deliver_deadline);
  return null;
}

/** Polls until the job leaves requested/accepted; returns it once delivered (or later). */
export async function waitForDelivery(ctx: WatchContext): Promise<Job> {
  let last = "";
  let rpcFailures = 0;
  for (;;) {
    let job: Job;
    try {
      job = await getJob(ctx.chain, ctx.escrow, ctx.jobId);
      rpcFailures = 0;
    } catch (error) {
      // The money is escrowed: ride out a flaky RPC for a while rather than walk away.
      if (!(error instanceof ClientError) || error.code !== "rpc_error") throw error;
      if (++rpcFailures >= MAX_RPC_FAILURES) throw error;
      ctx.report({ step: "job_status", message: `${error.message}; retrying` });
      await sleep(ctx.pollMs * rpcFailures);
      continue;
    }
    if (job.status !== last) {
      ctx.report({
        step: "job_status",
        status: job.status,
        message: `job ${job.id}: ${describe(job)}`,
      });
      last = job.status;
    }
    if (job.status === "refunded") refundError(job);
    const deadline = deadlineOf(job);
    if (deadline === null) return job;
    if ((await ctx.chain.blockTimestampNs()) > deadline) {
      ctx.report({
        step: "reclaiming",
        message: `job ${job.id}: the provider missed its ${job.status === "requested" ? "accept" : "deliver"} deadline; reclaiming`,
      });
      let reclaimed: Job;
      let txHash: string;
      try {
        const outcome = await jobAction(ctx.chain, ctx.escrow, "reclaim_job", job.id);
        reclaimed = outcome.value;
        txHash = outcome.txHash;
      } catch (error) {
        // The provider acted in the same block: look again.
        if (error instanceof ClientError && error.code === "transaction_failed") continue;
        throw error;
      }
      clientError(
        "deadline_passed",
        `the provider missed job ${job.id}'s deadline; reclaimed: ${reclaimed.client_refund ?? job.max_amount} ${job.asset} credited to ${job.payer}'s escrow balance (market.withdraw())`,
        { jobId: job.id, refunded: true, txHash },
      );
    }
    await sleep(ctx.pollMs);
  }
}

/**
 * Streams the job's frames to `onToken` until the final frame or `signal`; reconnects (skipping
 * the frames already read) when the agent has not started the job yet or the connection drops.
 * Returns the text shown.
 */
export async function streamTokens(
  endpoint: ProviderEndpoint,
  jobId: string,
  responseKey: Uint8Array,
  inputHash: string,
  onToken: (text: string) => void,
  report: Report,
  signal: AbortSignal,
): Promise<string> {
  const reader = new ResponseReader(responseKey, inputHash);
  let shown = "";
  let lastProblem = "";
  while (!reader.complete && !signal.aborted) {
    let seen = 0;
    try {
      await endpoint.stream(
        jobId,
        (line) => {
          if (seen++ < reader.frames) return;
          const frame = reader.open(line);
          if (frame.content !== "") {
            shown += frame.content;
            onToken(frame.content);
          }
        },
        signal,
      );
    } catch (error) {
      if (signal.aborted) return shown;
      const problem = messageOf(error);
      if (!(error instanceof ClientError)) {
        // A frame that does not open: stop showing it; the delivered file decides.
        report({ step: "stream_interrupted", message: `stream stopped: ${problem}` });
        return shown;
      }
      if (problem !== lastProblem) {
        report({ step: "stream_interrupted", message: `stream: ${problem}; retrying` });
        lastProblem = problem;
      }
    }
    if (!reader.complete) await sleep(500);
  }
  return shown;
}
