/** model-server generate: write the tiny random-weight llama model. */
import { parseArgs } from "node:util";
import { DEFAULT_SEED, writeTinyModel } from "../gguf/tiny-model.ts";
import { cliPath, wholeNumber } from "./args.ts";
import { CliError, usageError } from "./errors.ts";

export const GENERATE_USAGE = `usage: model-server generate --out <file.gguf> [--seed N] [--json]

Writes a tiny llama-architecture GGUF model (random weights from the seed, byte-level
vocabulary, ChatML chat template; about 1.8 MB). The same seed always gives the same bytes.

  --out <file>   where to write it (folders are created)
  --seed <N>     0 to 4294967295 (default ${DEFAULT_SEED})
  --json         one JSON document on stdout
  --help         this text`;

export async function generateCommand(argv: string[]): Promise<void> {
  let values: { out?: string; seed?: string; json?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        out: { type: "string" },
        seed: { type: "string" },
        json: { type: "boolean" },
        help: { type: "boolean" },
      },
      strict: true,
    }));
  } catch (error) {
    throw usageError((error as Error).message, "run `model-server generate --help`");
  }
  if (values.help) {
    process.stdout.write(`${GENERATE_USAGE}\n`);
    return;
  }
  if (values.out === undefined || values.out === "") {
    throw usageError("--out is required", "e.g. --out .data/models/tiny-llama.gguf");
  }
  const seed = wholeNumber(values.seed, "--seed", 0, 0xffff_ffff) ?? DEFAULT_SEED;
  let info: Awaited<ReturnType<typeof writeTinyModel>>;
  try {
    info = await writeTinyModel(cliPath(values.out), { seed });
  } catch (error) {
    throw new CliError(`could not write ${values.out}: ${(error as Error).message}`, {
      hint: "choose an --out path in a folder you can write to",
      cause: error,
    });
  }
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ ok: true, ...info })}\n`);
    return;
  }
  const s = info.shape;
  process.stdout.write(
    [
      `wrote ${info.path}`,
      `  sha256        ${info.sha256}`,
      `  size          ${info.bytes} bytes`,
      `  model         llama, ${info.parameters} parameters (F32), seed ${info.seed}`,
      `  shape         ${s.blockCount} blocks, embedding ${s.embeddingLength}, ${s.headCount} heads (${s.headCountKv} kv), ffn ${s.feedForwardLength}, context ${s.contextLength}`,
      `  vocabulary    ${info.vocabSize} tokens (256 bytes + <|endoftext|> <|im_start|> <|im_end|>)`,
      `serve it: npm run serve -w @gpu-market/model-server -- --model ${info.path}`,
      "",
    ].join("\n"),
  );
}
