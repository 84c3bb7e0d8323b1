// wasm-opt (the command-line build in the binaryen npm package; binaryen.js's runPasses
// threw on the lowering passes in v132): lower the post-MVP instructions that the
// prebuilt wasi-libc uses and optimise for size (flags in flags.ts).
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { WASM_OPT_FLAGS } from "./flags.ts";
import { packageDir } from "./paths.ts";

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

export async function lowerAndOptimise(wasm: Uint8Array): Promise<Uint8Array> {
  const dir = mkdtempSync(path.join(tmpdir(), "gpu-market-wasm-opt-"));
  try {
    const input = path.join(dir, "input.wasm");
    const output = path.join(dir, "output.wasm");
    writeFileSync(input, wasm);
    await wasmOpt([input, ...WASM_OPT_FLAGS, "-o", output]);
    return new Uint8Array(readFileSync(output));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
