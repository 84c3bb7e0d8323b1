// Builds the probe contract once per test run into a temporary folder; test files read
// it with inject("probeWasm"). The first run on a machine also builds the engine cache.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { TestProject } from "vitest/node";
import { buildContracts } from "../src/build.ts";
import { repoRoot } from "../src/paths.ts";
import { silentProgress } from "../src/progress.ts";

declare module "vitest" {
  export interface ProvidedContext {
    /** Path of the probe contract built by this test run. */
    probeWasm: string;
    /** sha256 of that wasm. */
    probeSha256: string;
  }
}

export default async function setup(project: TestProject): Promise<() => void> {
  const outDir = mkdtempSync(path.join(tmpdir(), "toolchain-test-"));
  const [entry] = await buildContracts(["probe"], {
    root: repoRoot,
    outDir,
    progress: silentProgress(),
  });
  if (!entry) throw new Error("the probe contract was not built");
  project.provide("probeWasm", path.join(outDir, "probe.wasm"));
  project.provide("probeSha256", entry.sha256);
  return () => rmSync(outDir, { recursive: true, force: true });
}
