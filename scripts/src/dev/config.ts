/**
 * Settings of the local stack (`npm start`), from the environment, each validated with a message
 * naming the variable. Everything listens on 127.0.0.1; data lives under the repository's .data/.
 */
import { join } from "node:path";
import { REPO_ROOT } from "../artifacts.ts";
import { DEMO_PROVIDERS } from "./demo.ts";

export interface DevConfig {
  /** Repository root (build/contracts is read from there). */
  root: string;
  /** Everything the stack keeps: chain, database, keys, deployment, state. */
  dataDir: string;
  host: string;
  rpcPort: number;
  apiPort: number;
  pgPort: number;
  /** The embedded inference backend (model-server, OpenAI-compatible). */
  backendPort: number;
  /** The first demo provider's agent endpoint; the others follow (agentPort + provider index). */
  agentPort: number;
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
  GPU_MARKET_BACKEND_PORT embedded inference backend (OpenAI)  default 3049
  GPU_MARKET_AGENT_PORT   first provider agent's endpoint      default 3050 (one port per provider)
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
    backendPort: port(env, "GPU_MARKET_BACKEND_PORT", 3049),
    agentPort: port(env, "GPU_MARKET_AGENT_PORT", 3050),
    blockIntervalMs,
    seed: seed === "1",
  };
  const ports = [
    config.rpcPort,
    config.apiPort,
    config.pgPort,
    config.backendPort,
    ...agentPorts(config),
  ];
  if (new Set(ports).size !== ports.length || config.agentPort + DEMO_PROVIDERS.length > 65536) {
    throw new DevConfigError(
      `GPU_MARKET_RPC_PORT, GPU_MARKET_API_PORT, GPU_MARKET_PG_PORT, GPU_MARKET_BACKEND_PORT and the agents' ports (GPU_MARKET_AGENT_PORT and the ${DEMO_PROVIDERS.length - 1} after it) must differ, got ${ports.join(", ")}`,
    );
  }
  return config;
}

/** One agent endpoint port per demo provider, in DEMO_PROVIDERS order. */
export function agentPorts(config: Pick<DevConfig, "agentPort">): number[] {
  return DEMO_PROVIDERS.map((_, index) => config.agentPort + index);
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
    agents: join(dir, "agents"),
    verifierPosted: join(dir, "verifier-posted.json"),
  };
}
