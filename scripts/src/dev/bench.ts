/**
 * `npm start` time to ready, as a newcomer sees it: `node scripts/src/dev/start.ts` in a child
 * process on a new data folder (fresh chain: deploy + seed + index), then again on the same
 * folder (resume), each until its "ready in" line; then Ctrl-C (SIGINT) and the time to exit.
 * The contracts must be built already (`npm run build:contracts`); building them is measured by
 * the toolchain's own bench. Prints one line per run and a JSON summary.
 *
 *   node scripts/src/dev/bench.ts
 */
import { spawn } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { DEMO_PROVIDERS } from "./demo.ts";
import { freePort, freePortRange } from "./free-port.ts";

const START = fileURLToPath(new URL("./start.ts", import.meta.url));

interface Run {
  servicesUpS: number;
  readyS: number;
  stopS: number;
  exitCode: number | null;
}

async function run(env: NodeJS.ProcessEnv): Promise<Run> {
  const started = performance.now();
  const child = spawn(process.execPath, [START], { env, stdio: ["ignore", "ignore", "pipe"] });
  let servicesUp = 0;
  let output = "";
  const ready = new Promise<number>((resolve, reject) => {
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (chunk: string) => {
      output += chunk;
      if (servicesUp === 0 && output.includes("services up in")) servicesUp = performance.now();
      if (output.includes(": the market is seeded and indexed")) resolve(performance.now());
    });
    child.once("exit", (code) =>
      reject(new Error(`start exited (${code}) before ready:\n${output}`)),
    );
  });
  const readyAt = await ready;
  const stopping = performance.now();
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => resolve(code)),
  );
  child.kill("SIGINT");
  const exitCode = await exited;
  return {
    servicesUpS: (servicesUp - started) / 1000,
    readyS: (readyAt - started) / 1000,
    stopS: (performance.now() - stopping) / 1000,
    exitCode,
  };
}

const dataDir = mkdtempSync(join(tmpdir(), "gpu-market-bench-"));
chmodSync(dataDir, 0o755); // the embedded PostgreSQL runs as the postgres user under root
const env = {
  ...process.env,
  GPU_MARKET_DATA_DIR: dataDir,
  GPU_MARKET_RPC_PORT: String(await freePort()),
  GPU_MARKET_API_PORT: String(await freePort()),
  GPU_MARKET_PG_PORT: String(await freePort()),
  GPU_MARKET_BACKEND_PORT: String(await freePort()),
  GPU_MARKET_AGENT_PORT: String(await freePortRange(DEMO_PROVIDERS.length)),
};
try {
  const fresh = await run(env);
  console.log(
    `fresh chain: services up ${fresh.servicesUpS.toFixed(1)} s, ready (deployed, seeded, indexed) ${fresh.readyS.toFixed(1)} s, Ctrl-C to exit ${fresh.stopS.toFixed(1)} s (exit ${fresh.exitCode})`,
  );
  const resumed = await run(env);
  console.log(
    `resume:      services up ${resumed.servicesUpS.toFixed(1)} s, ready (caught up) ${resumed.readyS.toFixed(1)} s, Ctrl-C to exit ${resumed.stopS.toFixed(1)} s (exit ${resumed.exitCode})`,
  );
  console.log(JSON.stringify({ fresh, resumed }));
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}
