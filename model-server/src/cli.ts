#!/usr/bin/env node
/**
 * model-server <command>: generate the tiny model, or serve a GGUF model over the OpenAI API.
 * Errors print `error:` and `fix:` lines (and with --json a JSON document); exit 1 on a failed
 * command, 2 on a usage error.
 */
import { CliError, EXIT_FAILURE, usageError } from "./cli/errors.ts";

export const USAGE = `usage: model-server <command> [options]

commands:
  generate   write a tiny llama-architecture GGUF model (random weights from a seed)
  serve      serve a GGUF model over the OpenAI chat completions API on the CPU

\`model-server <command> --help\` lists a command's options.`;

// Loaded on use: only serve needs node-llama-cpp, which takes a while to import.
const COMMANDS: Record<string, (argv: string[]) => Promise<void>> = {
  generate: async (argv) => (await import("./cli/generate.ts")).generateCommand(argv),
  serve: async (argv) => (await import("./cli/serve.ts")).serveCommand(argv),
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
      throw usageError(`unknown command "${name}"`, "run `model-server --help` for the commands");
    }
    await command(rest);
    return 0;
  } catch (error) {
    const known = error instanceof CliError;
    const message = known ? error.message : `internal error: ${(error as Error).message}`;
    const hint = known ? error.hint : "this is a bug in model-server; please report it";
    process.stderr.write(`error: ${message}\n`);
    if (hint !== undefined) process.stderr.write(`fix: ${hint}\n`);
    if (json)
      process.stdout.write(`${JSON.stringify({ ok: false, error: message, fix: hint ?? null })}\n`);
    return known ? error.exitCode : EXIT_FAILURE;
  }
}

if (import.meta.main) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
