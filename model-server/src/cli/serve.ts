/** model-server serve: the OpenAI-compatible API for one GGUF model, until SIGINT/SIGTERM. */
import { existsSync } from "node:fs";
import { parseArgs } from "node:util";
import { RuntimeError } from "../llama/runtime.ts";
import { DEFAULT_MAX_QUEUED, startModelServer } from "../server/model-server.ts";
import { cliPath, wholeNumber } from "./args.ts";
import { CliError, usageError } from "./errors.ts";

export const DEFAULT_PORT = 8080;

export const SERVE_USAGE = `usage: model-server serve --model <file.gguf> [--name NAME] [--host 127.0.0.1] [--port N]
         [--context-size N] [--threads N] [--max-queued N] [--json]

Serves the model over the OpenAI chat completions API (POST /v1/chat/completions, GET /v1/models,
GET /health) on the CPU with node-llama-cpp, one request at a time. Ctrl-C stops it.

  --model <file>       a GGUF model (\`model-server generate\` writes a tiny one)
  --name <id>          the model id clients send (default: the file name without .gguf)
  --host <address>     default 127.0.0.1
  --port <N>           default ${DEFAULT_PORT}; 0 picks a free port
  --context-size <N>   tokens of prompt + completion (default: the model's, at most 4096)
  --threads <N>        CPU threads (default 1)
  --max-queued <N>     requests that may wait behind the running one before 503 (default ${DEFAULT_MAX_QUEUED})
  --json               one JSON document on stdout once it is serving
  --help               this text`;

export async function serveCommand(argv: string[]): Promise<void> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        model: { type: "string" },
        name: { type: "string" },
        host: { type: "string" },
        port: { type: "string" },
        "context-size": { type: "string" },
        threads: { type: "string" },
        "max-queued": { type: "string" },
        json: { type: "boolean" },
        help: { type: "boolean" },
      },
      strict: true,
    }));
  } catch (error) {
    throw usageError((error as Error).message, "run `model-server serve --help`");
  }
  if (values.help) {
    process.stdout.write(`${SERVE_USAGE}\n`);
    return;
  }
  const modelFlag = values.model as string | undefined;
  if (modelFlag === undefined || modelFlag === "") {
    throw usageError(
      "--model is required",
      "write one with `npm run generate -w @gpu-market/model-server -- --out .data/models/tiny-llama.gguf`",
    );
  }
  const modelPath = cliPath(modelFlag);
  if (!existsSync(modelPath)) {
    throw new CliError(`the model file ${modelPath} does not exist`, {
      hint: `write one with \`npm run generate -w @gpu-market/model-server -- --out ${modelFlag}\`, or pass the path of a GGUF model`,
    });
  }
  const name = values.name as string | undefined;
  if (name === "") throw usageError("--name is empty");
  const host = (values.host as string | undefined) ?? "127.0.0.1";
  const port = wholeNumber(values.port as string | undefined, "--port", 0, 65_535) ?? DEFAULT_PORT;
  const options = {
    modelPath,
    name,
    host,
    port,
    contextSize: wholeNumber(
      values["context-size"] as string | undefined,
      "--context-size",
      16,
      1 << 20,
    ),
    threads: wholeNumber(values.threads as string | undefined, "--threads", 1, 1024),
    maxQueued: wholeNumber(values["max-queued"] as string | undefined, "--max-queued", 0, 10_000),
  };

  let server: Awaited<ReturnType<typeof startModelServer>>;
  try {
    server = await startModelServer(options);
  } catch (error) {
    throw serveFailure(error, options.host, options.port);
  }
  if (values.json) {
    process.stdout.write(
      `${JSON.stringify({
        ok: true,
        url: server.url,
        model: server.modelName,
        weights_sha256: server.weightsSha256,
        context_size: server.contextSize,
      })}\n`,
    );
  } else {
    process.stdout.write(
      [
        `serving ${server.modelName} (weights sha256 ${server.weightsSha256})`,
        `  API      ${server.url}/v1  (POST /v1/chat/completions, GET /v1/models)`,
        `  health   ${server.url}/health`,
        `  context  ${server.contextSize} tokens, one request at a time`,
        "Ctrl-C stops it.",
        "",
      ].join("\n"),
    );
  }
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      resolve();
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
  await server.close();
  if (!values.json) process.stdout.write("stopped\n");
}

function serveFailure(error: unknown, host: string, port: number): CliError {
  if (error instanceof RuntimeError) {
    return new CliError(error.message, { hint: error.hint, cause: error });
  }
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "EADDRINUSE") {
    return new CliError(`${host}:${port} is already in use`, {
      hint: "pass another --port, or --port 0 for any free port",
      cause: error,
    });
  }
  if (code === "EADDRNOTAVAIL" || code === "ENOTFOUND") {
    return new CliError(`cannot listen on ${host}`, {
      hint: "pass an address of this machine as --host, e.g. 127.0.0.1 or 0.0.0.0",
      cause: error,
    });
  }
  return new CliError(`could not serve the model: ${(error as Error).message}`, {
    hint: "check that --model is a GGUF model llama.cpp supports",
    cause: error,
  });
}
