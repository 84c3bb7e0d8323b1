/**
 * Settings of the local stack (`npm start`), from the environment, each validated with a message
 * naming the variable. Everything listens on 127.0.0.1; data lives under the repository's .data/.
 */
import { join } from "node:path";
import { REPO_ROOT } from "../artifacts.ts";

export interface DevConfig {
  /** Repository root (build/contracts is read from there). */
  root: string;
  /** Everything the stack keeps: chain, database, keys, deployment, state. */
  dataDir: string;
  host: string;
  rpcPort: number;
  apiPort: number;
  pgPort: number;
  /** Idle block interval of localnet. */
  blockIntervalMs: number;
  /** Seed the demo market on a fresh chain. */
  seed: boolean;
}

export class DevConfigError extends Error {
  override name = "DevConfigError";
}

function port(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const text = env[name];
  if (text === undefined || text === "") return fallback;
  const value = Number(text);
  if (!/^\d{1,5}$/.test(text) || value < 1 || value > 65535) {
    throw new DevConfigError(`${name}: must be a port number from 1 to 65535, got "${text}"`);
  }
  return value;
}

export const ENV_HELP = `environment (all optional):
  GPU_MARKET_RPC_PORT     localnet JSON-RPC and block stream   default 3030
  GPU_MARKET_API_PORT     indexer query API and dashboard      default 3040
  GPU_MARKET_PG_PORT      embedded PostgreSQL                  default 54340
  GPU_MARKET_DATA_DIR     chain, database, keys, deployment    default <repo>/.data
  GPU_MARKET_BLOCK_MS     localnet idle block interval (ms)    default 1000
  GPU_MARKET_SEED=0       do not seed the demo market on a fresh chain
  DATABASE_URL            use this PostgreSQL instead of the embedded one`;

export function devConfig(env: NodeJS.ProcessEnv = process.env, root = REPO_ROOT): DevConfig {
  const blockText = env.GPU_MARKET_BLOCK_MS ?? "1000";
  const blockIntervalMs = Number(blockText);
  if (!/^\d{1,6}$/.test(blockText) || blockIntervalMs < 100) {
    throw new DevConfigError(
      `GPU_MARKET_BLOCK_MS: must be a whole number of milliseconds, at least 100, got "${blockText}"`,
    );
  }
  const seed = env.GPU_MARKET_SEED ?? "1";
  if (seed !== "0" && seed !== "1") {
    throw new DevConfigError(`GPU_MARKET_SEED: must be 0 or 1, got "${seed}"`);
  }
  const config: DevConfig = {
    root,
    dataDir: env.GPU_MARKET_DATA_DIR || join(root, ".data"),
    host: "127.0.0.1",
    rpcPort: port(env, "GPU_MARKET_RPC_PORT", 3030),
    apiPort: port(env, "GPU_MARKET_API_PORT", 3040),
    pgPort: port(env, "GPU_MARKET_PG_PORT", 54340),
    blockIntervalMs,
    seed: seed === "1",
  };
  const ports = [config.rpcPort, config.apiPort, config.pgPort];
  if (new Set(ports).size !== ports.length) {
    throw new DevConfigError(
      `GPU_MARKET_RPC_PORT, GPU_MARKET_API_PORT and GPU_MARKET_PG_PORT must differ, got ${ports.join(", ")}`,
    );
  }
  return config;
}

/** Where each part keeps its data under dataDir. */
export function devPaths(config: DevConfig) {
  const dir = config.dataDir;
  return {
    localnetHome: join(dir, "localnet"),
    postgres: join(dir, "postgres"),
    credentials: join(dir, "credentials"),
    deployment: join(dir, "deployment.json"),
    state: join(dir, "dev-state.json"),
    demo: join(dir, "demo"),
    verifierPosted: join(dir, "verifier-posted.json"),
  };
}
