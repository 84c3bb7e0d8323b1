/**
 * gpu-market session <open|chat|status|close|list>: inference sessions through @gpu-market/client.
 * `open` escrows a budget once for one machine (the session key stays in the client's state dir,
 * mode 0600); `chat` sends a request paid by a voucher (no transaction) and shows what it cost
 * and the budget left; `close` pays exactly what the receipts charged and credits the rest back.
 * Readable lines on stdout, progress on stderr, one JSON document with --json.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import {
  type AttestationOptions,
  ClientError,
  defaultStateDir,
  GpuMarket,
  type MarketSession,
  type Payment,
  type SessionChatResult,
  type SessionCloseResult,
  type SessionState,
} from "@gpu-market/client";
import type { Session } from "@gpu-market/common/src/escrow-types.ts";
import { context, parseCommand, positional, wholeNumber } from "../args.ts";
import { loadAccountKey } from "../credentials.ts";
import { CliError, usageError } from "../errors.ts";
import type { Io } from "../io.ts";
import { formatNear, parseNear, parseU128 } from "../units.ts";
import { cliErrorOf } from "./job-run.ts";

export const SESSION_USAGE = `usage: gpu-market session <open|chat|status|close|list> [options]

  session open --account <client> --model <name> --budget <NEAR> [options]
      --machine <id>                default: the cheapest eligible machine serving the model
      --max-price <yocto per unit>  refuse machines priced above this
      --expires-in <s>              how long the session lasts (default 3600)
      --token <account>             pay the budget in an allowed NEP-141 token (--budget in base units)
      --from-balance                pay from your escrow balance instead of attaching NEAR
      --verify-attestation          check the machine's TDX quote here before paying
        --pccs <url> | --collateral <file>   where the quote's collateral comes from
        --allow-dev-machines        accept none-dev machines (no TEE; dev networks only)
  session chat <id> --account <client> --prompt <text> [--system <text>] [--max-tokens <n> (256)]
      [--max-amount <NEAR>] [--stream]   one request, paid by a voucher: no transaction
  session status <id> --account <client>   on-chain status, budget, charged, budget left
  session close <id> --account <client>    pay exactly what was charged; the rest is credited back
  session list --account <client>          the sessions this client holds keys for

  --state-dir <dir>   where session keys are kept (default GPU_MARKET_STATE_DIR or ~/.gpu-market/client)
  --indexer-url <url> find machines through the indexer's query API (the chain decides)`;

const OPTIONS = {
  model: { type: "string" },
  machine: { type: "string" },
  budget: { type: "string" },
  "max-price": { type: "string" },
  "expires-in": { type: "string" },
  token: { type: "string" },
  "from-balance": { type: "boolean", default: false },
  "verify-attestation": { type: "boolean", default: false },
  "allow-dev-machines": { type: "boolean", default: false },
  pccs: { type: "string" },
  collateral: { type: "string" },
  prompt: { type: "string" },
  system: { type: "string" },
  "max-tokens": { type: "string" },
  "max-amount": { type: "string" },
  stream: { type: "boolean", default: false },
  "state-dir": { type: "string" },
  "indexer-url": { type: "string" },
} as const;

/** An amount in the session's asset, readable. */
function shown(amount: string | bigint, asset: string): string {
  return asset === "NEAR" ? formatNear(amount) : `${amount} ${asset}`;
}

function when(ns: string | null): string {
  return ns === null ? "-" : new Date(Number(BigInt(ns) / 1_000_000n)).toISOString();
}

const HINTS: Record<string, string> = {
  session_unavailable:
    "open a new session (gpu-market session open), or close this one (gpu-market session close <id>)",
  session_refused:
    "nothing was charged; check the session (gpu-market session status <id>) and try again",
  bad_receipt:
    "stop using this session and close it (gpu-market session close <id>): the verified receipts are the evidence",
  endpoint_error:
    "the provider's agent did not answer; try again, or close the session after it expires",
};

/** A ClientError as the CLI reports it, with the session's fix and id. */
function sessionError(error: ClientError): CliError {
  const base = cliErrorOf(error);
  return new CliError(base.message, {
    hint: HINTS[error.code] ?? base.hint,
    exitCode: base.exitCode,
    cause: error,
    details: {
      ...(base.details as Record<string, unknown>),
      session_id: error.sessionId ?? null,
    },
  });
}

async function guarded<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw error instanceof ClientError ? sessionError(error) : error;
  }
}

function attestationOptions(values: { pccs?: string; collateral?: string }): AttestationOptions {
  if (values.pccs !== undefined && values.collateral !== undefined) {
    throw usageError("give --pccs or --collateral, not both");
  }
  if (values.collateral === undefined) {
    return values.pccs === undefined ? {} : { pccsUrl: values.pccs };
  }
  try {
    return { collateral: JSON.parse(readFileSync(values.collateral, "utf8")) };
  } catch (error) {
    throw usageError(`--collateral ${values.collateral}: ${(error as Error).message}`);
  }
}

export interface OpenOptions {
  market: GpuMarket;
  model: string;
  budget: bigint;
  machine?: string;
  maxPricePerUnit?: bigint;
  expiresInSeconds: number;
  payment: Payment;
  verifyAttestation: boolean;
  allowDevMachines: boolean;
}

export async function openSessionCommand(options: OpenOptions, io: Io) {
  const session = await guarded(() =>
    options.market.openSession({
      model: options.model,
      budget: options.budget,
      machine: options.machine,
      maxPricePerUnit: options.maxPricePerUnit,
      expiresInSeconds: options.expiresInSeconds,
      payment: options.payment,
      verifyAttestation: options.verifyAttestation,
      allowDevMachines: options.allowDevMachines,
      onProgress: (step) => io.progress(step.message),
    }),
  );
  const state = session.state;
  io.line(`session ${session.id} open with machine ${state.machine_id} of ${state.provider}`);
  io.line(`  budget      ${shown(state.budget, state.asset)}`);
  io.line(`  price       ${state.price_per_unit} per token`);
  io.line(`  expires     ${when(state.expires_at)}`);
  io.line(
    `  chat with   gpu-market session chat ${session.id} --account ${state.client} --prompt "..."`,
  );
  const result = { ok: true, session_id: session.id, ...stateJson(state) };
  io.result(result);
  return result;
}

function stateJson(state: Omit<SessionState, "client_secret">) {
  return {
    machine_id: state.machine_id,
    provider: state.provider,
    endpoint: state.endpoint,
    asset: state.asset,
    budget: state.budget,
    price_per_unit: state.price_per_unit,
    expires_at: state.expires_at,
    charged: state.charged,
    budget_left: (BigInt(state.budget) - BigInt(state.charged)).toString(),
    nonce: state.nonce,
    requests: state.requests,
    status: state.status,
    tx_hashes: state.tx_hashes,
  };
}

export interface ChatOptions {
  session: MarketSession;
  prompt: string;
  system?: string;
  maxTokens: number;
  maxAmount?: bigint;
  stream: boolean;
}

export async function chatCommand(options: ChatOptions, io: Io): Promise<SessionChatResult> {
  const write = (text: string) => (io.json ? process.stderr : process.stdout).write(text);
  let streamed = false;
  const result = await guarded(() =>
    options.session.chat({
      messages: [
        ...(options.system === undefined
          ? []
          : [{ role: "system" as const, content: options.system }]),
        { role: "user" as const, content: options.prompt },
      ],
      maxTokens: options.maxTokens,
      maxAmount: options.maxAmount,
      onToken: options.stream
        ? (text) => {
            streamed = true;
            write(text);
          }
        : undefined,
    }),
  );
  if (streamed) write("\n");
  else io.line(result.text);
  io.progress(
    `session ${result.sessionId}: ${result.usage.promptTokens} + ${result.usage.completionTokens} tokens, cost ${shown(result.cost, result.asset)} (no transaction); charged ${shown(result.charged, result.asset)} of ${shown(result.budget, result.asset)}, ${shown(result.budgetLeft, result.asset)} left`,
  );
  io.result({
    ok: true,
    answer: result.text,
    finish_reason: result.finishReason,
    session_id: result.sessionId,
    machine_id: result.machineId,
    model: result.model,
    usage: {
      prompt_tokens: result.usage.promptTokens,
      completion_tokens: result.usage.completionTokens,
    },
    cost: result.cost,
    charged: result.charged,
    budget: result.budget,
    budget_left: result.budgetLeft,
    asset: result.asset,
    quote: result.quote,
    nonce: result.nonce,
    receipt: result.receipt,
    signature: result.signature,
  });
  return result;
}

export async function statusCommand(session: MarketSession, io: Io) {
  const report = await guarded(() => session.status());
  const chain: Session = report.chain;
  const local = report.local;
  io.line(
    `session ${session.id}: ${chain.status} (machine ${chain.machine_id} of ${chain.provider})`,
  );
  io.line(`  budget       ${shown(chain.budget, chain.asset)}`);
  io.line(
    `  charged      ${shown(local.charged, chain.asset)} (${local.requests} request(s), receipts verified)`,
  );
  io.line(`  budget left  ${shown(report.budgetLeft, chain.asset)}`);
  io.line(
    `  claimed      ${shown(chain.claimed, chain.asset)} on-chain (voucher nonce ${chain.nonce})`,
  );
  io.line(`  expires      ${when(chain.expires_at)}`);
  if (chain.dispute_deadline !== null) io.line(`  dispute until ${when(chain.dispute_deadline)}`);
  if (chain.client_refund !== null) {
    io.line(`  refunded     ${shown(chain.client_refund, chain.asset)} (gpu-market job withdraw)`);
  }
  const result = {
    ok: true,
    session_id: session.id,
    status: chain.status,
    budget: chain.budget,
    charged: local.charged,
    budget_left: report.budgetLeft,
    claimed: chain.claimed,
    nonce: local.nonce,
    requests: local.requests,
    expires_at: chain.expires_at,
    closed_by: chain.closed_by,
    dispute_deadline: chain.dispute_deadline,
    provider_payout: chain.provider_payout,
    fee: chain.fee,
    client_refund: chain.client_refund,
    asset: chain.asset,
  };
  io.result(result);
  return result;
}

export async function closeCommand(session: MarketSession, io: Io): Promise<SessionCloseResult> {
  const result = await guarded(() => session.close((message) => io.progress(message)));
  io.line(`session ${session.id}: ${result.status}`);
  io.line(`  charged      ${shown(result.charged, result.asset)} (the receipts)`);
  io.line(`  claimed      ${shown(result.claimed, result.asset)}`);
  if (result.refund !== null) {
    io.line(
      `  refunded     ${shown(result.refund, result.asset)} credited to your escrow balance (gpu-market job withdraw)`,
    );
  } else if (result.disputeDeadline !== null) {
    io.line(`  settles after ${when(result.disputeDeadline)} (run close again then)`);
  }
  io.result({
    ok: true,
    session_id: result.sessionId,
    status: result.status,
    charged: result.charged,
    claimed: result.claimed,
    provider_payout: result.providerPayout,
    fee: result.fee,
    refund: result.refund,
    asset: result.asset,
    dispute_deadline: result.disputeDeadline,
    tx_hashes: result.txHashes,
  });
  return result;
}

export function listCommand(market: GpuMarket, io: Io) {
  const sessions = market.sessions();
  if (sessions.length === 0) io.line("no sessions (gpu-market session open ...)");
  for (const state of sessions) {
    io.line(
      `session ${state.session_id ?? "(opening)"}  ${state.status}  machine ${state.machine_id}  charged ${shown(state.charged, state.asset)} of ${shown(state.budget, state.asset)}  left ${shown(BigInt(state.budget) - BigInt(state.charged), state.asset)}  expires ${when(state.expires_at)}`,
    );
  }
  const result = {
    ok: true,
    sessions: sessions.map((state) => ({ session_id: state.session_id, ...stateJson(state) })),
  };
  io.result(result);
  return result;
}

export async function sessionCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseCommand(argv, OPTIONS, SESSION_USAGE);
  const sub = positionals[0];
  if (values.help || sub === undefined) {
    process.stdout.write(`${SESSION_USAGE}\n`);
    if (sub === undefined && !values.help) {
      throw usageError("session needs a subcommand", SESSION_USAGE);
    }
    return;
  }
  if (!["open", "chat", "status", "close", "list"].includes(sub)) {
    throw usageError(`unknown session subcommand "${sub}"`, SESSION_USAGE);
  }
  // Every flag is checked before anything is read or signed.
  const id =
    sub === "open" || sub === "list"
      ? null
      : positional(positionals, 1, "session id", SESSION_USAGE);
  if (id !== null && !/^(0|[1-9][0-9]{0,19})$/.test(id)) {
    throw usageError(`session id "${id}" is not a number`, SESSION_USAGE);
  }
  const stateDir = resolve(
    values["state-dir"] ?? process.env.GPU_MARKET_STATE_DIR ?? defaultStateDir(),
  );
  const ctx = context(values);
  const account = ctx.account("holds the session");
  const signer = loadAccountKey(ctx.creds, ctx.chain.network.id, account);
  const market = await guarded(
    async () =>
      new GpuMarket({
        network: { rpcUrl: ctx.chain.network.rpcUrl },
        registry: ctx.contract("registry"),
        escrow: ctx.contract("escrow"),
        account: { accountId: account, signer },
        indexerUrl: values["indexer-url"],
        attestation: attestationOptions(values),
        stateDir,
      }),
  );
  const io = ctx.io;
  switch (sub) {
    case "open": {
      const { model, budget } = values;
      if (model === undefined || budget === undefined) {
        throw usageError("session open needs --model and --budget", SESSION_USAGE);
      }
      if (values.token !== undefined && values["from-balance"]) {
        throw usageError("give --token or --from-balance, not both");
      }
      const payment: Payment =
        values.token !== undefined
          ? { from: "token", token: values.token }
          : values["from-balance"]
            ? { from: "balance" }
            : { from: "attached" };
      await openSessionCommand(
        {
          market,
          model,
          budget:
            values.token === undefined
              ? parseNear(budget, "--budget")
              : parseU128(budget, "--budget"),
          machine: values.machine,
          maxPricePerUnit:
            values["max-price"] === undefined
              ? undefined
              : parseU128(values["max-price"], "--max-price"),
          expiresInSeconds: wholeNumber(values["expires-in"], "--expires-in", 3600),
          payment,
          verifyAttestation: values["verify-attestation"] ?? false,
          allowDevMachines: values["allow-dev-machines"] ?? false,
        },
        io,
      );
      return;
    }
    case "chat": {
      if (values.prompt === undefined)
        throw usageError("session chat needs --prompt", SESSION_USAGE);
      const session = await guarded(async () => market.session(id as string));
      await chatCommand(
        {
          session,
          prompt: values.prompt,
          system: values.system,
          maxTokens: wholeNumber(values["max-tokens"], "--max-tokens", 256),
          maxAmount:
            values["max-amount"] === undefined
              ? undefined
              : parseNear(values["max-amount"], "--max-amount"),
          stream: values.stream ?? false,
        },
        io,
      );
      return;
    }
    case "status":
      await statusCommand(await guarded(async () => market.session(id as string)), io);
      return;
    case "close":
      await closeCommand(await guarded(async () => market.session(id as string)), io);
      return;
    default:
      listCommand(market, io);
  }
}
