#!/usr/bin/env node
/**
 * gpu-market <command>: a thin layer over the command functions (src/commands/*): parses flags,
 * resolves network, credentials and contract accounts, prints errors with their fix, and exits
 * 0 on success, 1 on a failed command, 2 on a usage error.
 */
import { daoCommand } from "./cli-dao.ts";
import { jobCommand } from "./cli-job.ts";
import { deployCommand, registerProviderCommand } from "./cli-market.ts";
import { sessionCommand } from "./commands/session.ts";
import { CliError, EXIT_FAILURE, messageOf, usageError } from "./errors.ts";
import { toJson } from "./io.ts";

export const USAGE = `usage: gpu-market <command> [options]

commands:
  register-provider   detect this machine, run preflight checks, register provider + machine
  deploy              build, create accounts, deploy and wire registry, escrow and governance
  dao <sub>           propose | vote | delegate | queue | execute | cancel | list | show
  job <sub>           run | create | watch | confirm | dispute | cancel | withdraw
  session <sub>       open | chat | status | close | list (many requests, one escrow, no transaction each)
  provider <sub>      run (the provider agent on the attested host) | withdraw | status

common options:
  --network localnet|testnet|mainnet   (default localnet)
  --rpc-url <url>                      (default NEAR_<NETWORK>_RPC_URL or the public endpoint)
  --account <id>                       the account that signs (keys: ~/.near-credentials/<network>/<id>.json,
                                       or NEAR_ACCOUNT_ID + NEAR_PRIVATE_KEY)
  --deployment <file>                  contract accounts (written by deploy; default ~/.gpu-market/deployments/<network>.json)
  --registry/--escrow/--governance <id>  override the deployment file
  --json                               one JSON document on stdout
  --help                               this text, or a command's options

\`gpu-market <command> --help\` lists a command's options; scripts/README.md has examples.`;

export type Command = (argv: string[], json: boolean) => Promise<void>;

/** The provider agent's commands (agent/, loaded on demand): its errors become the CLI's. */
async function provider(argv: string[]): Promise<void> {
  const { AgentError, providerCommand } = await import("@gpu-market/agent");
  try {
    await providerCommand(argv);
  } catch (error) {
    if (!(error instanceof AgentError)) throw error;
    throw new CliError(error.message, { hint: error.hint, exitCode: error.exitCode, cause: error });
  }
}

const COMMANDS: Record<string, Command> = {
  "register-provider": registerProviderCommand,
  deploy: deployCommand,
  dao: daoCommand,
  job: jobCommand,
  session: sessionCommand,
  provider,
};

export async function main(argv: string[]): Promise<number> {
  const json = argv.includes("--json");
  const [name, ...rest] = argv;
  try {
    if (name === undefined || name === "--help" || name === "-h" || name === "help") {
      process.stdout.write(`${USAGE}\n`);
      return name === undefined ? 2 : 0;
    }
    const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
    if (command === undefined) {
      throw usageError(`unknown command "${name}"`, `run \`gpu-market --help\` for the commands`);
    }
    await command(rest, json);
    return 0;
  } catch (error) {
    const known = error instanceof CliError;
    const message = known ? error.message : `internal error: ${messageOf(error)}`;
    const hint = known
      ? error.hint
      : "this is a bug in gpu-market; please report it with the command you ran";
    process.stderr.write(`error: ${message}\n`);
    if (hint !== undefined) process.stderr.write(`fix: ${hint}\n`);
    if (!known && process.env.GPU_MARKET_DEBUG) process.stderr.write(`${(error as Error).stack}\n`);
    if (json) {
      const details = known ? error.details : undefined;
      process.stdout.write(
        `${toJson({ ok: false, error: message, fix: hint ?? null, ...(details === undefined ? {} : { details }) })}\n`,
      );
    }
    return known ? error.exitCode : EXIT_FAILURE;
  }
}

if (import.meta.main) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
