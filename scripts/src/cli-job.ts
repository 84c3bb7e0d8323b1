/** The job command's flags, over the functions of commands/job.ts. */
import { context, parseCommand, positional, wholeNumber } from "./args.ts";
import { clientAction, createJob, hashArg, keysetArg, watchJob, withdraw } from "./commands/job.ts";
import { jobRunCommand } from "./commands/job-run.ts";
import { usageError } from "./errors.ts";
import { parseNear, parseU128, secondsToNs } from "./units.ts";

const USAGE = `usage: gpu-market job <run|create|watch|confirm|dispute|cancel|withdraw> [options]

  job run --account <client> --model <name> --prompt <text> --max-amount <NEAR> [--stream]
          [--verify-attestation] ...   one confidential inference, end to end (job run --help)

  job create --account <client> --machine <id> --max-amount <NEAR>
             (--model-hash <hex> | --model-file <file>) (--input-hash <hex> | --input-file <file>)
             [--keyset-sha256 <hex>]   the keyset the input was encrypted to (default: the
                                       machine's current one, read from the registry)
             [--token <token account> --max-amount <base units>]   pay in an allowed NEP-141 token
             [--accept-within <s>] (default 600) [--deliver-within <s>] (default 3600)
             [--max-price <units per unit>]   the highest price accepted (default: the
                                       machine's current one, read from the registry)
             [--storage-deposit <NEAR>]
  job watch <id> [--until <status,...>] [--timeout <s>]   (default: until closed, 600 s)
  job confirm <id> --account <client>
  job dispute <id> --account <client> --reason <text>
  job cancel <id> --account <client>
  job withdraw --account <id> [--asset NEAR|<token>] [--amount <base units>]`;

const OPTIONS = {
  machine: { type: "string" },
  "max-amount": { type: "string" },
  token: { type: "string" },
  "model-hash": { type: "string" },
  "model-file": { type: "string" },
  "input-hash": { type: "string" },
  "input-file": { type: "string" },
  "keyset-sha256": { type: "string" },
  "accept-within": { type: "string" },
  "deliver-within": { type: "string" },
  "max-price": { type: "string" },
  "storage-deposit": { type: "string" },
  until: { type: "string" },
  timeout: { type: "string" },
  reason: { type: "string" },
  asset: { type: "string" },
  amount: { type: "string" },
} as const;

export async function jobCommand(argv: string[]): Promise<void> {
  if (argv[0] === "run") return jobRunCommand(argv.slice(1));
  const { values, positionals } = parseCommand(argv, OPTIONS, USAGE);
  const sub = positionals[0];
  if (values.help || sub === undefined) {
    process.stdout.write(`${USAGE}\n`);
    if (sub === undefined && !values.help) throw usageError("job needs a subcommand", USAGE);
    return;
  }
  const ctx = context(values);
  const target = { chain: ctx.chain, escrow: ctx.contract("escrow") };
  switch (sub) {
    case "create": {
      const max = values["max-amount"];
      if (values.machine === undefined || max === undefined) {
        throw usageError("job create needs --machine and --max-amount", USAGE);
      }
      await createJob(
        {
          ...target,
          client: ctx.account("pays for the job"),
          machineId: values.machine,
          asset: values.token ?? "NEAR",
          maxAmount:
            values.token === undefined
              ? parseNear(max, "--max-amount")
              : parseU128(max, "--max-amount"),
          modelHash: hashArg(values["model-hash"], values["model-file"], "model"),
          inputHash: hashArg(values["input-hash"], values["input-file"], "input"),
          keysetSha256: keysetArg(values["keyset-sha256"]),
          registry: ctx.contract("registry"),
          acceptWithinNs: secondsToNs(values["accept-within"] ?? "600", "--accept-within"),
          deliverWithinNs: secondsToNs(values["deliver-within"] ?? "3600", "--deliver-within"),
          maxPricePerUnit:
            values["max-price"] === undefined
              ? undefined
              : parseU128(values["max-price"], "--max-price"),
          storageDeposit:
            values["storage-deposit"] === undefined
              ? undefined
              : parseNear(values["storage-deposit"], "--storage-deposit"),
        },
        ctx.io,
      );
      return;
    }
    case "watch":
      await watchJob(
        {
          ...target,
          jobId: positional(positionals, 1, "job id", USAGE),
          until: values.until?.split(","),
          timeoutSeconds: wholeNumber(values.timeout, "--timeout", 600),
        },
        ctx.io,
      );
      return;
    case "confirm":
    case "dispute":
    case "cancel":
      await clientAction(
        {
          ...target,
          account: ctx.account(`${sub}s the job`),
          jobId: positional(positionals, 1, "job id", USAGE),
          action: sub,
          reason: values.reason,
        },
        ctx.io,
      );
      return;
    case "withdraw":
      await withdraw(
        {
          ...target,
          account: ctx.account("withdraws"),
          asset: values.asset ?? "NEAR",
          amount: values.amount === undefined ? undefined : parseU128(values.amount, "--amount"),
        },
        ctx.io,
      );
      return;
    default:
      throw usageError(`unknown job subcommand "${sub}"`, USAGE);
  }
}
