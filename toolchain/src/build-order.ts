// Contracts that embed another contract's wasm with includeBytes (near-sdk-js's babel plugin reads
// the file while bundling) must be built after it. This finds those dependencies in the sources
// and orders the builds in levels: each level only needs the ones before it.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import type { Contract } from "./discover.ts";

const SOURCE = /\.(ts|js|mjs)$/;
// includeBytes takes a string literal (the plugin refuses anything else).
const INCLUDE_BYTES = /\bincludeBytes\s*\(\s*(["'`])([^"'`]+)\1/g;

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === "node_modules" || entry.name.startsWith(".")) continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sourceFiles(full));
    else if (SOURCE.test(entry.name)) out.push(full);
  }
  return out;
}

/** Absolute paths of the files a contract's sources embed with includeBytes. */
export function includedFiles(contract: Contract): string[] {
  const found = new Set<string>();
  for (const file of sourceFiles(contract.dir)) {
    for (const match of readFileSync(file, "utf8").matchAll(INCLUDE_BYTES)) {
      found.add(path.resolve(path.dirname(file), match[2] as string));
    }
  }
  return [...found].sort();
}

/**
 * Each contract's dependencies: the contracts whose built wasm it embeds, as found at
 * `<outDir>/<name>.wasm` or `<root>/build/contracts/<name>.wasm`.
 */
export function contractDependencies(
  contracts: Contract[],
  root: string,
  outDir: string,
): Map<string, string[]> {
  const byOutput = new Map<string, string>();
  for (const c of contracts) {
    byOutput.set(path.resolve(outDir, `${c.name}.wasm`), c.name);
    byOutput.set(path.resolve(root, "build", "contracts", `${c.name}.wasm`), c.name);
  }
  const deps = new Map<string, string[]>();
  for (const c of contracts) {
    const names = includedFiles(c)
      .map((file) => byOutput.get(file))
      .filter((name): name is string => name !== undefined && name !== c.name);
    deps.set(c.name, [...new Set(names)].sort());
  }
  return deps;
}

export type BuildPlan = {
  /** Contracts to build, level by level: a level's contracts only embed earlier levels' wasm. */
  levels: Contract[][];
  /** Contracts that cannot be ordered, with the reason (an includeBytes cycle). */
  unordered: { name: string; problem: string }[];
};

/**
 * Plans the build of `selected`: their dependencies are built first when selected too or when
 * their wasm is not at `outDir` yet (a clean build); dependencies already built are used as
 * they are.
 */
export function planBuild(
  selected: Contract[],
  all: Contract[],
  deps: Map<string, string[]>,
  outDir: string,
): BuildPlan {
  const byName = new Map(all.map((c) => [c.name, c]));
  const chosen = new Map(selected.map((c) => [c.name, c]));
  const pending = [...selected];
  for (let c = pending.pop(); c !== undefined; c = pending.pop()) {
    for (const dep of deps.get(c.name) ?? []) {
      const contract = byName.get(dep);
      if (contract === undefined || chosen.has(dep)) continue;
      if (existsSync(path.join(outDir, `${dep}.wasm`))) continue;
      chosen.set(dep, contract);
      pending.push(contract);
    }
  }
  const levels: Contract[][] = [];
  const placed = new Set<string>();
  let left = [...chosen.values()].sort((a, b) => a.name.localeCompare(b.name));
  while (left.length > 0) {
    const ready = left.filter((c) =>
      (deps.get(c.name) ?? []).every((d) => placed.has(d) || !chosen.has(d)),
    );
    if (ready.length === 0) break;
    levels.push(ready);
    for (const c of ready) placed.add(c.name);
    left = left.filter((c) => !placed.has(c.name));
  }
  const unordered = left.map((c) => ({
    name: c.name,
    problem: `includeBytes cycle: it embeds the wasm of ${(deps.get(c.name) ?? [])
      .filter((d) => !placed.has(d) && chosen.has(d))
      .join(", ")}, which (directly or not) embeds its own`,
  }));
  return { levels, unordered };
}
