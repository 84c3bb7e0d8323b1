/**
 * The llama.cpp runtime, on the CPU, from the prebuilt binary npm installed
 * (@node-llama-cpp/linux-x64 and the other platform packages); never compiled or downloaded at
 * run time (`build: "never"`).
 *
 * node-llama-cpp first tests the binary in a child process: child_process.fork() of its
 * testBindingBinary.js, which inherits this process's execArgv. Node drops a `-e <code>` pair
 * from an inherited execArgv but keeps `--input-type`, and refuses `--input-type` with a file
 * entry point (ERR_INPUT_TYPE_NOT_ALLOWED): the test child exits with 1 before its handshake,
 * and getLlama fails with "Binding binary test failed to run a test process" and
 * NoBinaryFoundError (with the default `build: "auto"` it goes on to compile llama.cpp from
 * source for minutes). So a process started with `--input-type` (ESM code from -e or stdin)
 * cannot load the runtime; this module says so instead of failing obscurely.
 */
import { getLlama, type Llama, LlamaLogLevel } from "node-llama-cpp";

const INPUT_TYPE_FLAG = /^--input-type(=|$)/;

export class RuntimeError extends Error {
  readonly hint: string;

  constructor(message: string, hint: string, cause?: unknown) {
    super(message, { cause });
    this.name = "RuntimeError";
    this.hint = hint;
  }
}

export async function loadLlamaRuntime(
  execArgv: readonly string[] = process.execArgv,
): Promise<Llama> {
  const inputType = execArgv.find((arg) => INPUT_TYPE_FLAG.test(arg));
  if (inputType !== undefined) {
    throw new RuntimeError(
      `node-llama-cpp cannot test its binary from a process started with ${inputType}: its test child inherits the flag, which Node refuses for a file (ERR_INPUT_TYPE_NOT_ALLOWED)`,
      "run the code from a file (npx node file.ts) instead of --input-type with -e or stdin",
    );
  }
  try {
    return await getLlama({
      gpu: false,
      build: "never",
      usePrebuiltBinaries: true,
      skipDownload: true,
      progressLogs: false,
      logLevel: LlamaLogLevel.error,
    });
  } catch (error) {
    throw new RuntimeError(
      `the prebuilt llama.cpp binary did not load: ${(error as Error).message}`,
      "check that @node-llama-cpp/linux-x64 (or your platform's package) is installed with node-llama-cpp 3.21.1 (npm ls @node-llama-cpp/linux-x64)",
      error,
    );
  }
}
