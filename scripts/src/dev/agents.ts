/**
 * The compute side of the local market: the embedded inference backend (model-server on
 * node-llama-cpp, the tiny demo model) and one provider agent per demo provider, serving every
 * machine of that provider from its key files at the provider's registered endpoint. The same
 * `startProvider` a provider runs with `gpu-market provider run`, in-process.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { RunningProvider } from "@gpu-market/agent";
import type { ModelServer } from "@gpu-market/model-server";
import type { Fields, Logger } from "../../../indexer/src/log.ts";
import type { Deployment } from "../deployment.ts";
import { DEMO_MODEL_NAME, DEMO_PROVIDERS } from "./demo.ts";
import { type DevLog, since } from "./log.ts";

export interface DemoAgentsOptions {
  rpcUrl: string;
  deployment: Deployment;
  master: string;
  host: string;
  backendPort: number;
  agentPorts: number[];
  credentialsDir: string;
  /** The seed's folder: machine key files and models/. */
  demoDir: string;
  /** One data folder per agent (journal, cursor, ciphertexts) under it. */
  agentsDir: string;
}

export interface DemoAgents {
  backendUrl: string;
  agents: RunningProvider[];
  stop(): Promise<void>;
}

/** The demo model file, the demo machine key files of each provider. */
export function demoModelPath(demoDir: string): string {
  return join(demoDir, "models", `${DEMO_MODEL_NAME}.gguf`);
}

function machineKeyFiles(demoDir: string, provider: (typeof DEMO_PROVIDERS)[number]): string[] {
  return provider.machines
    .map((_, index) => join(demoDir, `${provider.name}-${index}-machine-key.json`))
    .filter((path) => existsSync(path));
}

function show(fields: Fields | undefined): string {
  if (fields === undefined) return "";
  const parts = Object.entries(fields).map(([key, value]) => {
    const text = value instanceof Error ? value.message : value;
    return `${key}=${typeof text === "string" && /^[\w.:/-]+$/.test(text) ? text : JSON.stringify(text)}`;
  });
  return parts.length === 0 ? "" : ` ${parts.join(" ")}`;
}

/** The agent's logger into the stack's log, under "agent", prefixed with the provider. */
function agentLog(log: DevLog, provider: string): Logger {
  return {
    debug: () => {},
    info: (message, fields) => log.info("agent", `${provider}: ${message}${show(fields)}`),
    warn: (message, fields) => log.warn("agent", `${provider}: ${message}${show(fields)}`),
    error: (message, fields) => log.error("agent", `${provider}: ${message}${show(fields)}`),
  };
}

export async function startDemoAgents(
  options: DemoAgentsOptions,
  log: DevLog,
): Promise<DemoAgents> {
  const started = performance.now();
  const modelPath = demoModelPath(options.demoDir);
  const { startModelServer, writeTinyModel } = await import("@gpu-market/model-server");
  if (!existsSync(modelPath)) await writeTinyModel(modelPath);
  const backend: ModelServer = await startModelServer({
    modelPath,
    name: DEMO_MODEL_NAME,
    host: options.host,
    port: options.backendPort,
  });
  log.info(
    "backend",
    `${DEMO_MODEL_NAME} on node-llama-cpp (CPU) at ${backend.url} in ${since(started)}`,
  );
  const { parseRetainDays, startProvider } = await import("@gpu-market/agent");
  const agents: RunningProvider[] = [];
  const stop = async () => {
    for (const agent of agents.splice(0)) await agent.stop(5_000);
    await backend.close();
  };
  try {
    for (const [index, provider] of DEMO_PROVIDERS.entries()) {
      const keys = machineKeyFiles(options.demoDir, provider);
      const port = options.agentPorts[index];
      if (keys.length === 0 || port === undefined) continue;
      const account = `${provider.name}.${options.master}`;
      const agent = await startProvider(
        {
          network: "localnet",
          rpcUrl: options.rpcUrl,
          registry: options.deployment.registry.account_id,
          escrow: options.deployment.escrow.account_id,
          account,
          machineKeyFiles: keys,
          evidenceFiles: [],
          models: [{ name: DEMO_MODEL_NAME, path: modelPath }],
          backendUrl: backend.url,
          listen: { host: options.host, port },
          dataDir: join(options.agentsDir, provider.name),
          blockSource: options.rpcUrl,
          fromHeight: null,
          maxQueue: 8,
          parallel: 2,
          retainMs: parseRetainDays(undefined),
          json: false,
        },
        {
          log: agentLog(log, provider.name),
          env: { NEAR_CREDENTIALS_DIR: options.credentialsDir },
        },
      );
      agents.push(agent);
      log.info("agent", `${provider.name}: ${keys.length} machine(s) served at ${agent.url}`);
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { backendUrl: backend.url, agents, stop };
}
