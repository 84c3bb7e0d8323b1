// npm run bench -w @gpu-market/toolchain
// Cold build (empty engine cache: QuickJS compiled, qjsc linked) and warm builds of the
// probe contract, with the time of every step and the output size.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { buildContracts } from "../src/build.ts";
import { repoRoot } from "../src/paths.ts";
import type { Progress } from "../src/progress.ts";

type Timings = Map<string, number>;

function timingProgress(timings: Timings, prefix = ""): Progress {
  return {
    async step(label, work) {
      const started = performance.now();
      const result = await work();
      timings.set(`${prefix}${label}`, performance.now() - started);
      return result;
    },
    note: () => {},
    scoped: (inner) => timingProgress(timings, `${prefix}${inner}: `),
  };
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

async function buildProbe(label: string): Promise<void> {
  const outDir = mkdtempSync(path.join(tmpdir(), "toolchain-bench-out-"));
  const timings: Timings = new Map();
  const started = performance.now();
  try {
    const [entry] = await buildContracts(["probe"], {
      root: repoRoot,
      outDir,
      progress: timingProgress(timings),
    });
    const total = performance.now() - started;
    console.log(
      `${label}: ${seconds(total)}, probe.wasm ${entry?.size} bytes (${((entry?.size ?? 0) / 1024).toFixed(1)} KiB)`,
    );
    for (const [step, ms] of timings) console.log(`  ${step.padEnd(34)} ${seconds(ms)}`);
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
}

const cache = mkdtempSync(path.join(tmpdir(), "toolchain-bench-cache-"));
process.env.GPU_MARKET_TOOLCHAIN_CACHE = cache;
try {
  await buildProbe("cold build (empty engine cache)");
  await buildProbe("warm build 1");
  await buildProbe("warm build 2");
} finally {
  rmSync(cache, { recursive: true, force: true });
}
