/**
 * The llama.cpp runtime, on the CPU, from the prebuilt binary npm installed
 * (@node-llama-cpp/linux-x64 and the other platform packages); never compiled or downloaded at
 * run time.
 *
 * node-llama-cpp first tests the binary in a child process: child_process.fork() of its
 * testBindingBinary.js, which inherits this process's execArgv. Started with `node -e`/`-p` or
 * `--input-type` (code from the command line or stdin), the child runs that code again instead
 * of the test file, never answers, and getLlama fails with "Binding binary test failed to run a
 * test process" and NoBinaryFoundError (or, with the default `build: "auto"`, starts compiling
 * llama.cpp from source for minutes). Run from a file and the test passes; this module says so
 * instead of failing obscurely.
 */
import { getLlama, type Llama, LlamaLogLevel } from "node-llama-cpp";

const EVAL_FLAG = /^(-e|-p|-pe|--eval|--print|--input-type)(=|$)/;

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
  const evalFlag = execArgv.find((arg) => EVAL_FLAG.test(arg));
  if (evalFlag !== undefined) {
    throw new RuntimeError(
      `node-llama-cpp cannot test its binary in a process started with ${evalFlag}: the test child inherits that flag and runs the command-line code instead of the test`,
      "run the code from a file (npx node file.ts), not with node -e/-p/--input-type",
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
