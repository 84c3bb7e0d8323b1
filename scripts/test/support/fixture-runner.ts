/** A CommandRunner that answers nvidia-smi from a fixture folder (see fixtures/nvidia-smi/README.md). */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { CC_ARGS, QUERY_ARGS } from "../../src/gpu/nvidia-smi.ts";
import type { CommandRunner } from "../../src/gpu/runner.ts";

export const FIXTURES = fileURLToPath(new URL("../fixtures/nvidia-smi/", import.meta.url));

export function fixtureRunner(name: string): CommandRunner {
  const dir = join(FIXTURES, name);
  const codesPath = join(dir, "exit-codes.json");
  const codes: Record<string, number> = existsSync(codesPath)
    ? JSON.parse(readFileSync(codesPath, "utf8"))
    : {};
  return async (command, args) => {
    if (command !== "nvidia-smi") throw new Error(`unexpected command ${command}`);
    const file =
      args.join(" ") === QUERY_ARGS.join(" ")
        ? "query-gpu.csv"
        : args.join(" ") === CC_ARGS.join(" ")
          ? "conf-compute-f.txt"
          : null;
    if (file === null) throw new Error(`no fixture for nvidia-smi ${args.join(" ")}`);
    const key = file.replace(/\.[a-z]+$/, "");
    return {
      code: codes[key] ?? 0,
      stdout: readFileSync(join(dir, file), "utf8"),
      stderr: "",
      notFound: false,
    };
  };
}

export const missingCommand: CommandRunner = async () => ({
  code: null,
  stdout: "",
  stderr: "spawn nvidia-smi ENOENT",
  notFound: true,
});
