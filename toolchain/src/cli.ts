#!/usr/bin/env node
// npm run build:contracts [-- --contract <name> ...] [--json]
import path from "node:path";
import { parseArgs } from "node:util";
import { BuildError, buildContracts } from "./build.ts";
import { formatTable } from "./manifest.ts";
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
  const entries = await buildContracts(values.contract, {
    root: repoRoot,
    outDir: path.join(repoRoot, "build", "contracts"),
    progress: stderrProgress(),
  });
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ contracts: entries }, null, 2)}\n`);
  } else if (entries.length === 0) {
    process.stdout.write("no contracts found\n");
  } else {
    process.stdout.write(`${formatTable(entries)}\n`);
    process.stderr.write(
      `built ${entries.length} contract(s) in ${((performance.now() - started) / 1000).toFixed(1)} s\n`,
    );
  }
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof BuildError) {
      process.stderr.write(`build failed: ${error.message}\n`);
    } else {
      process.stderr.write(
        `build failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
    }
    process.exitCode = 1;
  },
);
