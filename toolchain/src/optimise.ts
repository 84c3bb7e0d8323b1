// wasm-opt (the command-line build in the binaryen npm package; binaryen.js's runPasses
// threw on the lowering passes in v132): lower the post-MVP instructions that the
// prebuilt wasi-libc uses, point the lowered copies and fills at the engine's word-wise
// ones, and optimise for size (flags in flags.ts).
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { functionCount, redirectBulkMemory } from "./bulk-memory.ts";
import { WASM_LOWER_FLAGS, WASM_OPT_FLAGS, WASM_PREINIT_FLAGS } from "./flags.ts";
import { packageDir } from "./paths.ts";
import { preinitialise } from "./preinit.ts";

const run = promisify(execFile);

async function wasmOpt(args: string[]): Promise<void> {
  const wasmOptScript = path.join(packageDir("binaryen"), "bin", "wasm-opt");
  try {
    await run(process.execPath, [wasmOptScript, ...args], { maxBuffer: 16 * 1024 * 1024 });
  } catch (error) {
    const failure = error as { stderr?: string; message: string };
    throw new Error(`wasm-opt failed: ${failure.stderr || failure.message}`);
  }
}

/** Runs `work` in a private temporary folder. */
async function inTempDir<T>(work: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(path.join(tmpdir(), "gpu-market-wasm-opt-"));
  try {
    return await work(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function lowerAndOptimise(wasm: Uint8Array): Promise<Uint8Array> {
  return inTempDir(async (dir) => {
    const input = path.join(dir, "input.wasm");
    const lowered = path.join(dir, "lowered.wasm");
    const redirected = path.join(dir, "redirected.wasm");
    const output = path.join(dir, "output.wasm");
    writeFileSync(input, wasm);
    await wasmOpt([input, ...WASM_LOWER_FLAGS, "-o", lowered]);
    writeFileSync(
      redirected,
      redirectBulkMemory(new Uint8Array(readFileSync(lowered)), functionCount(wasm)),
    );
    await wasmOpt([redirected, ...WASM_OPT_FLAGS, "-o", output]);
    return new Uint8Array(readFileSync(output));
  });
}

/** The optimised contract pre-initialised (preinit.ts), without the code only loading used. */
export async function preinitialiseContract(wasm: Uint8Array): Promise<Uint8Array> {
  return inTempDir(async (dir) => {
    const input = path.join(dir, "preinitialised.wasm");
    const output = path.join(dir, "output.wasm");
    writeFileSync(input, preinitialise(wasm));
    await wasmOpt([input, ...WASM_PREINIT_FLAGS, "-o", output]);
    return new Uint8Array(readFileSync(output));
  });
}
