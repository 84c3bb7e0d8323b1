/**
 * job run: one confidential inference through @gpu-market/client. Picks the machine (or takes
 * --machine), optionally checks its TDX attestation here, encrypts the prompt to the machine's
 * attested key, pays the job in NEAR, uploads the request to the provider, waits, checks the
 * signed delivery, decrypts and confirms. Progress on stderr, the answer on stdout (as it streams
 * with --stream), or one JSON document with --json.
 */
import { readFileSync } from "node:fs";
import {
  type AttestationOptions,
  ClientError,
  type ClientErrorCode,
  GpuMarket,
  type InferResult,
} from "@gpu-market/client";
import { context, parseCommand, wholeNumber } from "../args.ts";
import { loadAccountKey } from "../credentials.ts";
import { CliError, EXIT_USAGE, usageError } from "../errors.ts";
import type { Io } from "../io.ts";
import { formatNear, parseNear, parseU128 } from "../units.ts";

export const RUN_USAGE = `usage: gpu-market job run --model <name> --prompt <text> --max-amount <NEAR> --account <client> [options]

  --model <name|weights sha256>   a model the machines list (e.g. tiny-llama)
  --prompt <text>                 the user message; --system <text> adds a system message
  --max-amount <NEAR>             the most the job may cost (the unused rest is credited back)
  --max-tokens <n>                (default 256)
  --machine <id>                  default: the cheapest eligible machine serving the model
  --max-price <yocto per unit>    refuse machines priced above this
  --verify-attestation            check the machine's TDX quote here before paying
    --pccs <url> | --collateral <file>   where the quote's collateral comes from (default Intel PCS)
    --allow-dev-machines          accept none-dev machines (no TEE; dev networks only)
  --stream                        print the answer as it is produced
  --indexer-url <url>             find machines through the indexer's query API (the chain decides)
  --accept-within <s> (120)  --deliver-within <s> (600)   the provider's deadlines`;

const OPTIONS = {
  model: { type: "string" },
  prompt: { type: "string" },
  system: { type: "string" },
  machine: { type: "string" },
  "max-amount": { type: "string" },
  "max-tokens": { type: "string" },
  "max-price": { type: "string" },
  "verify-attestation": { type: "boolean", default: false },
  "allow-dev-machines": { type: "boolean", default: false },
  pccs: { type: "string" },
  collateral: { type: "string" },
  stream: { type: "boolean", default: false },
  "indexer-url": { type: "string" },
  "accept-within": { type: "string" },
  "deliver-within": { type: "string" },
} as const;

export interface RunJobOptions {
  market: GpuMarket;
  model: string;
  prompt: string;
  system?: string;
  machine?: string;
  maxAmount: bigint;
  maxTokens: number;
  maxPricePerUnit?: bigint;
  verifyAttestation: boolean;
  allowDevMachines: boolean;
  stream: boolean;
  acceptWithinSeconds?: number;
  deliverWithinSeconds?: number;
  /** Where streamed text goes (default stdout; stderr in JSON mode so stdout stays one document). */
  write?: (text: string) => void;
}

/** What --json prints. */
export interface RunJobResult {
  answer: string;
  finish_reason: string | null;
  job_id: string;
  machine_id: string;
  provider: string;
  model: string;
  weights_sha256: string;
  usage: { prompt_tokens: number; completion_tokens: number };
  amount_due: string;
  refunded: string;
  asset: string;
  tx_hashes: InferResult["txHashes"];
  receipt: InferResult["receipt"];
  signature: string;
  attestation: InferResult["attestation"];
}

const REFUND_HINT = "the refund is credited on the escrow: gpu-market job withdraw --account <you>";
const HINTS: Partial<Record<ClientErrorCode, string>> = {
  no_machine: "no eligible machine serves that model: check the name, or raise --max-price",
  machine_ineligible:
    "pick another machine, or leave out --machine to take the cheapest eligible one",
  keyset_mismatch: "the registry's data is inconsistent; pick another machine with --machine",
  attestation_failed: "do not use this machine; pick another with --machine",
  dev_machine: "pass --allow-dev-machines to accept it (dev networks only)",
  job_rejected:
    "the deposit came back; pick an eligible machine (or encrypt again: run the command again)",
  job_failed: REFUND_HINT,
  deadline_passed: REFUND_HINT,
  job_refunded: REFUND_HINT,
  disputed: "the arbiter decides; follow it with gpu-market job watch <id>",
  job_closed: "see what happened with gpu-market job watch <id>",
};

/** A ClientError as the CLI reports it: its hint, and the job and refund in --json details. */
export function cliErrorOf(error: ClientError): CliError {
  const hint = error.code === "endpoint_error" && error.refunded ? REFUND_HINT : HINTS[error.code];
  return new CliError(error.message, {
    hint,
    exitCode: error.code === "bad_input" ? EXIT_USAGE : undefined,
    cause: error,
    details: {
      code: error.code,
      job_id: error.jobId ?? null,
      refunded: error.refunded,
      failure_code: error.failureCode ?? null,
      tx_hash: error.txHash ?? null,
    },
  });
}

export async function runJob(options: RunJobOptions, io: Io): Promise<RunJobResult> {
  const write =
    options.write ?? ((text: string) => (io.json ? process.stderr : process.stdout).write(text));
  let streamed = false;
  let result: InferResult;
  try {
    result = await options.market.infer({
      mode: "job",
      model: options.model,
      messages: [
        ...(options.system === undefined
          ? []
          : [{ role: "system" as const, content: options.system }]),
        { role: "user" as const, content: options.prompt },
      ],
      maxAmount: options.maxAmount,
      maxTokens: options.maxTokens,
      machine: options.machine,
      maxPricePerUnit: options.maxPricePerUnit,
      verifyAttestation: options.verifyAttestation,
      allowDevMachines: options.allowDevMachines,
      acceptWithinSeconds: options.acceptWithinSeconds,
      deliverWithinSeconds: options.deliverWithinSeconds,
      onProgress: (step) => io.progress(step.message),
      onToken: options.stream
        ? (text) => {
            streamed = true;
            write(text);
          }
        : undefined,
    });
  } catch (error) {
    throw error instanceof ClientError ? cliErrorOf(error) : error;
  }
  if (streamed) write("\n");
  else io.line(result.text);
  const paid =
    result.asset === "NEAR" ? formatNear(result.amountDue) : `${result.amountDue} ${result.asset}`;
  const back =
    result.asset === "NEAR" ? formatNear(result.refunded) : `${result.refunded} ${result.asset}`;
  io.progress(
    `job ${result.jobId} on machine ${result.machineId}: ${result.usage.promptTokens} + ${result.usage.completionTokens} tokens, paid ${paid}; ${back} credited back (gpu-market job withdraw)`,
  );
  const out: RunJobResult = {
    answer: result.text,
    finish_reason: result.finishReason,
    job_id: result.jobId,
    machine_id: result.machineId,
    provider: result.provider,
    model: result.model,
    weights_sha256: result.weightsSha256,
    usage: {
      prompt_tokens: result.usage.promptTokens,
      completion_tokens: result.usage.completionTokens,
    },
    amount_due: result.amountDue,
    refunded: result.refunded,
    asset: result.asset,
    tx_hashes: result.txHashes,
    receipt: result.receipt,
    signature: result.signature,
    attestation: result.attestation,
  };
  io.result(out);
  return out;
}

function seconds(text: string | undefined, flag: string): number | undefined {
  return text === undefined ? undefined : wholeNumber(text, flag, 0);
}

function attestationOptions(
  pccs: string | undefined,
  collateral: string | undefined,
): AttestationOptions {
  if (pccs !== undefined && collateral !== undefined) {
    throw usageError("give --pccs or --collateral, not both");
  }
  if (collateral === undefined) return pccs === undefined ? {} : { pccsUrl: pccs };
  try {
    return { collateral: JSON.parse(readFileSync(collateral, "utf8")) };
  } catch (error) {
    throw usageError(
      `--collateral ${collateral}: ${(error as Error).message}`,
      "give a JSON collateral file (dcap-qvl's layout)",
    );
  }
}

export async function jobRunCommand(argv: string[]): Promise<void> {
  const { values } = parseCommand(argv, OPTIONS, RUN_USAGE);
  if (values.help) {
    process.stdout.write(`${RUN_USAGE}\n`);
    return;
  }
  const { model, prompt } = values;
  const max = values["max-amount"];
  if (model === undefined || prompt === undefined || max === undefined) {
    throw usageError("job run needs --model, --prompt and --max-amount", RUN_USAGE);
  }
  // Every flag is checked before anything is read or signed.
  const flags = {
    model,
    prompt,
    system: values.system,
    machine: values.machine,
    maxAmount: parseNear(max, "--max-amount"),
    maxTokens: wholeNumber(values["max-tokens"], "--max-tokens", 256),
    maxPricePerUnit:
      values["max-price"] === undefined ? undefined : parseU128(values["max-price"], "--max-price"),
    verifyAttestation: values["verify-attestation"] ?? false,
    allowDevMachines: values["allow-dev-machines"] ?? false,
    stream: values.stream ?? false,
    acceptWithinSeconds: seconds(values["accept-within"], "--accept-within"),
    deliverWithinSeconds: seconds(values["deliver-within"], "--deliver-within"),
  };
  const attestation = attestationOptions(values.pccs, values.collateral);
  const ctx = context(values);
  const account = ctx.account("pays for the job");
  const signer = loadAccountKey(ctx.creds, ctx.chain.network.id, account);
  let market: GpuMarket;
  try {
    market = new GpuMarket({
      network: { rpcUrl: ctx.chain.network.rpcUrl },
      registry: ctx.contract("registry"),
      escrow: ctx.contract("escrow"),
      account: { accountId: account, signer },
      indexerUrl: values["indexer-url"],
      attestation,
    });
  } catch (error) {
    throw error instanceof ClientError ? cliErrorOf(error) : error;
  }
  await runJob({ market, ...flags }, ctx.io);
}
