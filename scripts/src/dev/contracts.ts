/**
 * The market's wasm in build/contracts: built here (the project's offline toolchain) only when one
 * is missing. After changing a contract's source, `npm run build:contracts` rebuilds it; a chain
 * that already holds the old code keeps it (`rm -rf .data` starts a fresh one).
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { buildContracts } from "@gpu-market/toolchain/src/build.ts";
import type { Progress } from "@gpu-market/toolchain/src/progress.ts";
import { MARKET_CONTRACTS } from "../artifacts.ts";
import { type DevLog, since } from "./log.ts";

function logProgress(log: DevLog, prefix = ""): Progress {
  return {
    async step(label, work) {
      const started = performance.now();
      const value = await work();
      log.info("build", `${prefix}${label} (${since(started)})`);
      return value;
    },
    note: (text) => log.info("build", `${prefix}${text}`),
    scoped: (inner) => logProgress(log, `${prefix}${inner}: `),
  };
}

/** Builds the market contracts that build/contracts lacks; returns the names built. */
export async function ensureContracts(root: string, log: DevLog): Promise<string[]> {
  const outDir = join(root, "build", "contracts");
  const missing = MARKET_CONTRACTS.filter((name) => !existsSync(join(outDir, `${name}.wasm`)));
  if (missing.length === 0) return [];
  const started = performance.now();
  log.info(
    "build",
    `building ${missing.join(", ")} (first run: the contract engine is compiled once, about a minute)`,
  );
  await buildContracts(missing, { root, outDir, progress: logProgress(log) });
  log.info("build", `contracts ready in ${since(started)}`);
  return missing;
}
