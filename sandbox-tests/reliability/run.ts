/**
 * The long reliability runs, apart from `npm test`:
 *   - escrow conservation over --ops random operations (default 10,000), seeded by --seed
 *     (default: from the clock; printed first and on failure, to replay);
 *   - the indexer killed with SIGKILL at --kills random moments (default 100) and restarted:
 *     nothing lost or duplicated, reconciliation clean (indexer/test/e2e.test.ts).
 * `--only escrow|indexer` runs one of them. Exits non-zero when a run fails.
 *
 *   npm run reliability -- --ops 10000 --kills 100
 *   npm run reliability -- --only escrow --seed 1234 --ops 500
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const VITEST = fileURLToPath(new URL("../../node_modules/vitest/vitest.mjs", import.meta.url));

function positive(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new Error(`${flag}: expected a positive integer, got "${value}"`);
  }
  return n;
}

const { values } = parseArgs({
  options: {
    seed: { type: "string" },
    ops: { type: "string" },
    kills: { type: "string" },
    only: { type: "string" },
    help: { type: "boolean" },
  },
  strict: true,
});
if (values.help) {
  console.log(
    "usage: npm run reliability -- [--only escrow|indexer] [--seed <n>] [--ops <n>] [--kills <n>]",
  );
  process.exit(0);
}
if (values.only !== undefined && !["escrow", "indexer"].includes(values.only)) {
  throw new Error(`--only: expected escrow or indexer, got "${values.only}"`);
}
const seed = positive(values.seed, "--seed", Date.now() % 2 ** 31);
const ops = positive(values.ops, "--ops", 10_000);
const kills = positive(values.kills, "--kills", 100);

function vitest(args: string[], env: Record<string, string>): boolean {
  const result = spawnSync(process.execPath, [VITEST, "run", ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: "inherit",
  });
  return result.status === 0;
}

const failed: string[] = [];
if (values.only !== "indexer") {
  console.log(`escrow conservation: --seed ${seed} --ops ${ops}`);
  const ok = vitest(["--config", "sandbox-tests/reliability/vitest.config.ts"], {
    RELIABILITY_SEED: String(seed),
    RELIABILITY_OPS: String(ops),
  });
  if (!ok) failed.push(`escrow conservation (replay: --only escrow --seed ${seed} --ops ${ops})`);
}
if (values.only !== "escrow") {
  console.log(`indexer kill and restart: --kills ${kills}`);
  const ok = vitest(["--project", "indexer", "indexer/test/e2e.test.ts", "-t", "killed at"], {
    INDEXER_KILL_ROUNDS: String(kills),
  });
  if (!ok) failed.push(`indexer kill and restart (--only indexer --kills ${kills})`);
}
if (failed.length > 0) {
  console.error(`reliability runs failed: ${failed.join("; ")}`);
  process.exit(1);
}
console.log("reliability runs passed");
