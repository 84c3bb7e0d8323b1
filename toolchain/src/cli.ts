#!/usr/bin/env node
// npm run build:contracts [-- --contract <name> ...] [--json]
import path from "node:path";
import { parseArgs } from "node:util";
import { BuildFailures, buildContracts } from "./build.ts";
import { formatTable, type ManifestEntry } from "./manifest.ts";
import { repoRoot } from "./paths.ts";
import { stderrProgress } from "./progress.ts";

const USAGE = `usage: npm run build:contracts -- [--contract <name>]... [--json]

Builds every contract (contracts/<name>/, sandbox-tests/test-contracts/<name>/ with a
"nearContract" field in package.json) to build/contracts/<name>.wasm and writes
build/contracts/manifest.json. Progress goes to stderr.

  --contract <name>  build only this contract (repeatable)
  --json             print the built contracts as JSON instead of a table
  --help             show this text`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      contract: { type: "string", multiple: true, default: [] },
      json: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const started = performance.now();
  let entries: ManifestEntry[];
  let failures: BuildFailures | undefined;
  try {
    entries = await buildContracts(values.contract, {
      root: repoRoot,
      outDir: path.join(repoRoot, "build", "contracts"),
      progress: stderrProgress(),
    });
  } catch (error) {
    if (!(error instanceof BuildFailures)) throw error;
    failures = error;
    entries = error.built;
  }
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ contracts: entries }, null, 2)}\n`);
  } else if (entries.length > 0) {
    process.stdout.write(`${formatTable(entries)}\n`);
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  process.stderr.write(`built ${entries.length} contract(s) in ${seconds} s\n`);
  if (failures) {
    process.stderr.write(`build failed:\n${failures.message}\n`);
    return 1;
  }
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(
      `build failed: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    process.exitCode = 1;
  },
);
