/**
 * job: create a job paid in NEAR (attached) or in an allowed NEP-141 token (ft_transfer_call),
 * watch it, and the client's confirm, dispute and cancel; withdraw credited payouts and refunds.
 * A job names the machine keyset its input was encrypted to (given, or the machine's current one
 * read from the registry). The escrow asks the registry whether the machine is eligible, still
 * attests that keyset and serves the model before the job exists: a refused job is reported with
 * the reason (the funds come back in the same transaction).
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import type { Job, StorageBalance } from "@gpu-market/common/src/escrow-types.ts";
import type { Eligibility } from "@gpu-market/common/src/registry-types.ts";
import { CliError, usageError } from "../errors.ts";
import { type Io, step } from "../io.ts";
import type { Chain, MarketEvent } from "../near.ts";
import { formatNear, TGAS, YOCTO_PER_NEAR } from "../units.ts";

export interface JobTarget {
  chain: Chain;
  escrow: string;
}

export interface CreateJobOptions extends JobTarget {
  client: string;
  machineId: string;
  /** "NEAR" or a token account id. */
  asset: string;
  maxAmount: bigint;
  /** The weights_sha256 of one of the machine's attested models. */
  modelHash: string;
  /** sha256 of the request envelope (the encrypted input) the client uploads to the machine. */
  inputHash: string;
  /** The keyset the input was encrypted to; by default the machine's current one (registry). */
  keysetSha256?: string;
  /** Where the machine's current keyset is read when keysetSha256 is not given. */
  registry: string;
  acceptWithinNs: bigint;
  deliverWithinNs: bigint;
  maxPricePerUnit?: bigint;
  /** Added to the escrow storage balance when it cannot pay a job's storage fee. */
  storageDeposit?: bigint;
}

/** The escrow's flat storage fee per job: 6000 bytes at 10^19 yoctoNEAR each. */
const JOB_STORAGE_FEE = 6000n * 10n ** 19n;
const HEX32 = /^[0-9a-f]{64}$/;
export const TERMINAL_STATUSES = ["settled", "resolved", "refunded"];

/** A keyset hash given as hex (--keyset-sha256). */
export function keysetArg(hex: string | undefined): string | undefined {
  if (hex !== undefined && !HEX32.test(hex)) {
    throw usageError(
      `--keyset-sha256: expected 64 lowercase hex characters, got "${hex}"`,
      "leave it out to use the machine's current keyset from the registry",
    );
  }
  return hex;
}

/**
 * The machine's current keyset hash and price from the registry, for a job on `modelHash`: fails
 * before any money moves when the machine is not eligible, has no attested keyset or does not
 * serve the model.
 */
export async function currentTerms(
  chain: Chain,
  registry: string,
  machineId: string,
  modelHash: string,
): Promise<{ keysetSha256: string; pricePerUnit: bigint }> {
  const answer = await chain.view<Eligibility>(registry, "is_eligible", { machine_id: machineId });
  if (!answer.eligible) {
    throw new CliError(
      `machine ${machineId} is not eligible: ${answer.reason ?? "no reason given"}`,
      {
        hint: "pick an eligible machine (gpu-market's query API: /v1/machines?eligible=true)",
      },
    );
  }
  if (answer.keyset_sha256 === null) {
    throw new CliError(`machine ${machineId} has no attested keyset`, {
      hint: "its provider must submit evidence with an encryption key and models",
    });
  }
  const models = answer.models ?? [];
  if (!models.some((m) => m.weights_sha256 === modelHash)) {
    const served = models.map((m) => `${m.name} ${m.weights_sha256}`).join(", ");
    throw new CliError(`machine ${machineId} does not serve model ${modelHash}`, {
      hint: `give --model-hash one of the weights it serves: ${served || "none"}`,
    });
  }
  return { keysetSha256: answer.keyset_sha256, pricePerUnit: BigInt(answer.price_per_unit ?? "0") };
}

/** A 32-byte hash given as hex, or the sha256 of a file's bytes. */
export function hashArg(hex: string | undefined, file: string | undefined, what: string): string {
  if (hex !== undefined && file !== undefined) {
    throw usageError(`give --${what}-hash or --${what}-file, not both`);
  }
  if (file !== undefined) {
    return createHash("sha256").update(readFileSync(file)).digest("hex");
  }
  if (hex === undefined || !HEX32.test(hex)) {
    throw usageError(
      `--${what}-hash: expected 64 lowercase hex characters (a sha256), got ${hex === undefined ? "nothing" : `"${hex}"`}`,
      `pass --${what}-file <path> to hash a file`,
    );
  }
  return hex;
}

function jobFromEvents(events: MarketEvent[]): Job {
  const created = events.find((e) => e.event === "job_created");
  if (created !== undefined) return created.data[0] as Job;
  const rejected = events.find((e) => e.event === "job_rejected");
  if (rejected !== undefined) {
    const data = rejected.data[0] as { reason: string; refunded_to: string };
    throw new CliError(`the escrow refused the job: ${data.reason}`, {
      hint: `the funds went back to ${data.refunded_to}; pick an eligible machine serving the model, and encrypt to its current keyset`,
    });
  }
  throw new CliError("the transaction succeeded but logged no job_created event");
}

async function ensureStorage(options: CreateJobOptions, io: Io): Promise<void> {
  const { chain, escrow, client } = options;
  const balance = await chain.view<StorageBalance | null>(escrow, "storage_balance_of", {
    account_id: client,
  });
  if (balance !== null && BigInt(balance.available) >= JOB_STORAGE_FEE) return;
  const deposit = options.storageDeposit ?? YOCTO_PER_NEAR / 10n;
  await step(io, `adding ${formatNear(deposit)} to ${client}'s escrow storage balance`, () =>
    chain.call(client, escrow, "storage_deposit", {}, { deposit }),
  );
}

export async function createJob(options: CreateJobOptions, io: Io): Promise<Job> {
  if (options.maxAmount <= 0n) throw usageError("--max-amount must be greater than 0");
  // The escrow needs the keyset the request was encrypted to and the highest price accepted:
  // without --max-price, the machine's price now (a reprice before the job is made is refused).
  let keyset = options.keysetSha256;
  let maxPrice = options.maxPricePerUnit;
  if (keyset === undefined || maxPrice === undefined) {
    const terms = await currentTerms(
      options.chain,
      options.registry,
      options.machineId,
      options.modelHash,
    );
    keyset ??= terms.keysetSha256;
    maxPrice ??= terms.pricePerUnit;
  }
  const fields = {
    machine_id: options.machineId,
    model_hash: options.modelHash,
    input_hash: options.inputHash,
    keyset_sha256: keyset,
    accept_within_ns: options.acceptWithinNs.toString(),
    deliver_within_ns: options.deliverWithinNs.toString(),
    max_price_per_unit: maxPrice.toString(),
  };
  await ensureStorage(options, io);
  const { chain, escrow, client } = options;
  const outcome =
    options.asset === "NEAR"
      ? await step(
          io,
          `creating a job on machine ${options.machineId} (${formatNear(options.maxAmount)})`,
          () =>
            chain.call(client, escrow, "create_job", fields, {
              deposit: options.maxAmount,
              gas: 200n * TGAS,
            }),
        )
      : await step(
          io,
          `creating a job on machine ${options.machineId} (${options.maxAmount} ${options.asset})`,
          () =>
            chain.call(
              client,
              options.asset,
              "ft_transfer_call",
              {
                receiver_id: escrow,
                amount: options.maxAmount.toString(),
                msg: JSON.stringify({ action: "create_job", job: fields }),
              },
              // Not 300 Tgas: NEAR reserves prepaid gas at a pessimistic price up front (about
              // 50 NEAR for 300 Tgas in protocol 77, 3 NEAR for 200), refunded afterwards.
              { deposit: 1n, gas: 200n * TGAS, handlesReceiptFailures: true },
            ),
        );
  const job = jobFromEvents(outcome.events);
  io.line(
    `job ${job.id} created on machine ${job.machine_id} (provider ${job.provider}, price ${job.price_per_unit} per unit, max ${job.max_amount} ${job.asset}); accept by ${job.accept_deadline}`,
  );
  io.result(job);
  return job;
}

export async function getJob(target: JobTarget, jobId: string): Promise<Job> {
  const job = await target.chain.view<Job | null>(target.escrow, "job", { job_id: jobId });
  if (job === null) throw new CliError(`job ${jobId} does not exist on ${target.escrow}`);
  return job;
}

/** Polls the job until its status is one of `until` (default: closed) or the time is up. */
export async function watchJob(
  options: JobTarget & { jobId: string; until?: string[]; timeoutSeconds: number; pollMs?: number },
  io: Io,
): Promise<Job> {
  const until = options.until ?? TERMINAL_STATUSES;
  const deadline = Date.now() + options.timeoutSeconds * 1000;
  let last = "";
  for (;;) {
    const job = await getJob(options, options.jobId);
    if (job.status !== last) {
      io.line(`job ${job.id}: ${job.status}${describeJob(job)}`);
      last = job.status;
    }
    if (until.includes(job.status)) {
      io.result(job);
      return job;
    }
    if (Date.now() >= deadline) {
      throw new CliError(`job ${job.id} is still ${job.status} after ${options.timeoutSeconds} s`, {
        hint: "watch again later, or give --timeout a larger number of seconds",
      });
    }
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 2000));
  }
}

function describeJob(job: Job): string {
  switch (job.status) {
    case "delivered":
      return ` (model ${job.model_name}, ${job.prompt_tokens} prompt + ${job.completion_tokens} completion tokens, response ${job.result_hash}, due ${job.amount_due}; dispute until ${job.dispute_deadline})`;
    case "settled":
    case "resolved":
      return ` (provider ${job.provider_payout}, fee ${job.fee}, refund ${job.client_refund})`;
    case "refunded":
      return job.failure_code === null
        ? ` (${job.refund_reason}; refund ${job.client_refund})`
        : ` (${job.refund_reason}: ${job.failure_code}; refund ${job.client_refund})`;
    default:
      return "";
  }
}

type ClientAction = "confirm" | "dispute" | "cancel";

export async function clientAction(
  options: JobTarget & { account: string; jobId: string; action: ClientAction; reason?: string },
  io: Io,
): Promise<Job> {
  const method = { confirm: "confirm_job", dispute: "dispute_job", cancel: "cancel_job" }[
    options.action
  ];
  if (options.action === "dispute" && (options.reason === undefined || options.reason === "")) {
    throw usageError("dispute needs --reason <text>");
  }
  const args: Record<string, unknown> = { job_id: options.jobId };
  if (options.action === "dispute") args.reason = options.reason;
  const done = await options.chain.call<Job>(options.account, options.escrow, method, args);
  const job = done.value;
  io.line(`job ${job.id}: ${job.status}${describeJob(job)}`);
  io.result(job);
  return job;
}

export interface WithdrawResult {
  account_id: string;
  asset: string;
  withdrawn: string;
}

export async function withdraw(
  options: JobTarget & { account: string; asset: string; amount?: bigint },
  io: Io,
): Promise<WithdrawResult> {
  const credited = await options.chain.view<string>(options.escrow, "balance_of", {
    account_id: options.account,
    asset: options.asset,
  });
  if (BigInt(credited) === 0n) {
    throw new CliError(`${options.account} has no ${options.asset} credited on ${options.escrow}`, {
      hint: "payouts and refunds are credited when a job closes; watch the job until it is settled",
    });
  }
  const outcome = await options.chain.call(
    options.account,
    options.escrow,
    "withdraw",
    {
      asset: options.asset,
      ...(options.amount === undefined ? {} : { amount: options.amount.toString() }),
    },
    { deposit: 1n, gas: 150n * TGAS, handlesReceiptFailures: true },
  );
  const failedEvent = outcome.events.find((e) => e.event === "withdraw_failed");
  if (failedEvent !== undefined) {
    throw new CliError(`the ${options.asset} transfer failed; the balance was restored`, {
      hint: `register ${options.account} with the token (storage_deposit) and withdraw again`,
    });
  }
  const event = outcome.events.find((e) => e.event === "withdraw");
  const withdrawn = (event?.data[0] as { withdrawn?: string } | undefined)?.withdrawn ?? credited;
  const shown = options.asset === "NEAR" ? formatNear(withdrawn) : `${withdrawn} ${options.asset}`;
  io.line(`${options.account} withdrew ${shown}`);
  const result = { account_id: options.account, asset: options.asset, withdrawn };
  io.result(result);
  return result;
}
