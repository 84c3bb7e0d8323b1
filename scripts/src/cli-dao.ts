/** The dao command's flags, over the functions of commands/dao.ts. */
import { readFileSync } from "node:fs";
import { context, parseCommand, positional, proposalIdArg, required, wholeNumber } from "./args.ts";
import type { ContractName } from "./artifacts.ts";
import {
  delegate,
  listProposals,
  type ProposalRequest,
  propose,
  showProposal,
  transition,
  vote,
} from "./commands/dao.ts";
import { usageError } from "./errors.ts";
import { parseNear, parseTgas } from "./units.ts";

const USAGE = `usage: gpu-market dao <propose|vote|delegate|queue|execute|cancel|list|show> [options]

  dao propose --account <proposer> --description <text> and one of:
      --upgrade registry|escrow|governance [--code-sha256 <hex>] [--stage]
            rebuilds the contract from this checkout; refuses if the staged blob differs
      --call <contract>.<method> [--args <json>] [--deposit <NEAR>] [--gas-tgas <n>]
      --transfer <receiver> --amount <NEAR or token units> [--token <token account>]
      --config <json>          a governance config change
      --actions <file>         a JSON array of actions as the contract takes them
  dao vote <id> for|against|abstain --account <voter> [--reason <text>]
  dao delegate <delegatee> --account <holder>
  dao queue|execute|cancel <id> --account <id>
  dao list [--from <n>] [--limit <n>]
  dao show <id>`;

const OPTIONS = {
  description: { type: "string" },
  upgrade: { type: "string" },
  "code-sha256": { type: "string" },
  stage: { type: "boolean", default: false },
  call: { type: "string" },
  args: { type: "string" },
  deposit: { type: "string" },
  "gas-tgas": { type: "string" },
  transfer: { type: "string" },
  amount: { type: "string" },
  token: { type: "string" },
  config: { type: "string" },
  actions: { type: "string" },
  reason: { type: "string" },
  from: { type: "string" },
  limit: { type: "string" },
} as const;

type Values = ReturnType<typeof parseCommand<typeof OPTIONS>>["values"];

function json(text: string, flag: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw usageError(`${flag}: not JSON (${(error as Error).message})`, USAGE);
  }
}

function proposalRequest(
  values: Values,
  contract: (role: ContractName) => string,
): ProposalRequest {
  const chosen = ["upgrade", "call", "transfer", "config", "actions"].filter(
    (k) => values[k as keyof Values] !== undefined,
  );
  if (chosen.length !== 1) {
    throw usageError(
      `dao propose needs exactly one of --upgrade, --call, --transfer, --config, --actions (got ${chosen.length})`,
      USAGE,
    );
  }
  if (values.upgrade !== undefined) {
    const name = values.upgrade;
    if (name !== "registry" && name !== "escrow" && name !== "governance") {
      throw usageError(`--upgrade: "${name}" is not registry, escrow or governance`, USAGE);
    }
    const sha = values["code-sha256"];
    if (sha !== undefined && !/^[0-9a-f]{64}$/.test(sha)) {
      throw usageError(`--code-sha256: "${sha}" is not 64 lowercase hex characters`, USAGE);
    }
    return {
      kind: "upgrade",
      contract: name,
      target: contract(name),
      codeSha256: sha,
      stage: values.stage ?? false,
    };
  }
  if (values.call !== undefined) {
    const dot = values.call.lastIndexOf(".");
    if (dot <= 0) throw usageError(`--call: "${values.call}" is not <contract>.<method>`, USAGE);
    return {
      kind: "actions",
      actions: [
        {
          kind: "function_call",
          target: values.call.slice(0, dot),
          method: values.call.slice(dot + 1),
          args: values.args === undefined ? {} : json(values.args, "--args"),
          ...(values.deposit === undefined
            ? {}
            : { deposit: parseNear(values.deposit, "--deposit").toString() }),
          ...(values["gas-tgas"] === undefined
            ? {}
            : { gas_tgas: Number(parseTgas(values["gas-tgas"], "--gas-tgas") / 10n ** 12n) }),
        },
      ],
    };
  }
  if (values.transfer !== undefined) {
    const amount = required(values.amount, "--amount", USAGE);
    return {
      kind: "actions",
      actions: [
        {
          kind: "transfer",
          receiver: values.transfer,
          // NEAR in NEAR, tokens in their base units
          amount: values.token === undefined ? parseNear(amount, "--amount").toString() : amount,
          ...(values.token === undefined ? {} : { token: values.token }),
        },
      ],
    };
  }
  if (values.config !== undefined) {
    return {
      kind: "actions",
      actions: [{ kind: "config", config: json(values.config, "--config") }],
    };
  }
  const list = json(readFileSync(values.actions ?? "", "utf8"), "--actions");
  if (!Array.isArray(list)) throw usageError("--actions: the file must hold a JSON array", USAGE);
  return { kind: "actions", actions: list };
}

export async function daoCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseCommand(argv, OPTIONS, USAGE);
  const sub = positionals[0];
  if (values.help || sub === undefined) {
    process.stdout.write(`${USAGE}\n`);
    if (sub === undefined && !values.help) throw usageError("dao needs a subcommand", USAGE);
    return;
  }
  const ctx = context(values);
  const target = { chain: ctx.chain, governance: ctx.contract("governance") };
  switch (sub) {
    case "propose":
      await propose(
        {
          ...target,
          proposer: ctx.account("proposes"),
          description: required(values.description, "--description", USAGE),
          request: proposalRequest(values, (role) => ctx.contract(role)),
        },
        ctx.io,
      );
      return;
    case "vote":
      await vote(
        {
          ...target,
          voter: ctx.account("votes"),
          proposalId: proposalIdArg(positional(positionals, 1, "proposal id", USAGE)),
          support: positional(positionals, 2, "for|against|abstain", USAGE),
          reason: values.reason,
        },
        ctx.io,
      );
      return;
    case "delegate":
      await delegate(
        {
          ...target,
          account: ctx.account("delegates"),
          delegatee: positional(positionals, 1, "delegatee account", USAGE),
        },
        ctx.io,
      );
      return;
    case "queue":
    case "execute":
    case "cancel":
      await transition(
        {
          ...target,
          account: ctx.account(`sends ${sub}`),
          proposalId: proposalIdArg(positional(positionals, 1, "proposal id", USAGE)),
          action: sub,
        },
        ctx.io,
      );
      return;
    case "list":
      await listProposals(
        {
          ...target,
          from: wholeNumber(values.from, "--from", 0),
          limit: wholeNumber(values.limit, "--limit", 50),
        },
        ctx.io,
      );
      return;
    case "show":
      await showProposal(
        { ...target, proposalId: proposalIdArg(positional(positionals, 1, "proposal id", USAGE)) },
        ctx.io,
      );
      return;
    default:
      throw usageError(`unknown dao subcommand "${sub}"`, USAGE);
  }
}
