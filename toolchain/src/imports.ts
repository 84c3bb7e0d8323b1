// After linking, every import must be a NEAR host function that our C glue declares:
// --allow-undefined would otherwise turn any missing C symbol into a bogus `env` import
// that fails only at deploy time.
import { listImports } from "./wasm-imports.ts";

/** Names declared `extern` in C sources (builder.c, near-extra-host.c, ...). */
export function declaredHostFunctions(cSources: string[]): Set<string> {
  const names = new Set<string>();
  for (const text of cSources) {
    for (const match of text.matchAll(/^extern\s+[\w\s*]+?\b(\w+)\s*\(/gm))
      names.add(match[1] as string);
  }
  return names;
}

export function checkImports(wasm: Uint8Array, allowed: Set<string>): void {
  const problems: string[] = [];
  for (const entry of listImports(wasm)) {
    if (entry.module !== "env")
      problems.push(`${entry.module}.${entry.name} (only env imports are allowed)`);
    else if (entry.kind !== "function") problems.push(`env.${entry.name} is a ${entry.kind}`);
    else if (!allowed.has(entry.name))
      problems.push(`env.${entry.name} is not a declared NEAR host function (undefined C symbol?)`);
  }
  if (problems.length > 0) throw new Error(`unexpected imports:\n  ${problems.join("\n  ")}`);
}
