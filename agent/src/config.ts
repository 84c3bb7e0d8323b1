/**
 * `gpu-market provider <run|withdraw|status>` flags, each validated with a message naming the flag.
 * Contract accounts come from --registry/--escrow or a deployment file written by `gpu-market
 * deploy` (--deployment, GPU_MARKET_DEPLOYMENT, ~/.gpu-market/deployments/<network>.json).
 */
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { usageError } from "./errors.ts";
import { DAY_MS } from "./store/retention.ts";

export const NETWORKS = {
  localnet: { rpc: "http://127.0.0.1:3030", blocks: null },
  testnet: { rpc: "https://rpc.testnet.near.org", blocks: "https://testnet.neardata.xyz" },
  mainnet: { rpc: "https://rpc.mainnet.near.org", blocks: "https://mainnet.neardata.xyz" },
} as const;
export type NetworkId = keyof typeof NETWORKS;

export const USAGE = `usage: gpu-market provider <run|withdraw|status> [options]

  provider run       follow the chain, accept and serve jobs on this host's machines
    --account <id>                the provider account (signs accept, deliver, fail)
    --machine-key-file <file>     a machine's key file from register-provider (repeat: one per machine,
                                  and the previous key file while a new keyset awaits attestation)
    --model <name>=<path>         a model the backend serves and its weights file (repeat); the agent
                                  hashes the file and checks it against the machine's attested keyset
    --backend-url <url>           an OpenAI-compatible server (vLLM, SGLang, llama.cpp, Ollama)
    [--listen <host:port>]        the endpoint (default 127.0.0.1:8080; put TLS in front of it)
    [--data-dir <dir>]            journal, cursor, ciphertexts (default ~/.gpu-market/agent)
    [--evidence-file <file>]      a machine's evidence bytes, served at /v1/attestation (repeat;
                                  default: the <key file>.evidence register-provider kept)
    [--block-source <url>]        a neardata-compatible block stream (default: the network's)
    [--from-height <n>]           read blocks from this height instead of the saved cursor
    [--max-queue <n>]             jobs accepted and not yet finished, at most (default 8)
    [--parallel <n>]              jobs streaming from the backend at once (default 4)
    [--retain-days <n|forever>]   keep finished jobs (status, envelope, answer) and settled sessions
                                  this many days, then prune them (default 30)
  provider withdraw  --account <id> [--asset NEAR|<token>] [--amount <base units>]
  provider status    [--data-dir <dir>] [--account <id>]   jobs, sessions (budget, charged), cursor, balance

common: --network localnet|testnet|mainnet (default localnet), --rpc-url <url>,
        --registry <id> --escrow <id> | --deployment <file>, --json (JSON log lines / output)`;

const OPTIONS = {
  network: { type: "string" },
  "rpc-url": { type: "string" },
  account: { type: "string" },
  registry: { type: "string" },
  escrow: { type: "string" },
  deployment: { type: "string" },
  "machine-key-file": { type: "string", multiple: true },
  "evidence-file": { type: "string", multiple: true },
  model: { type: "string", multiple: true },
  "backend-url": { type: "string" },
  listen: { type: "string" },
  "data-dir": { type: "string" },
  "block-source": { type: "string" },
  "from-height": { type: "string" },
  "max-queue": { type: "string" },
  parallel: { type: "string" },
  "retain-days": { type: "string" },
  asset: { type: "string" },
  amount: { type: "string" },
  json: { type: "boolean", default: false },
  help: { type: "boolean", default: false },
} as const;

export interface ChainConfig {
  network: NetworkId;
  rpcUrl: string;
  registry: string;
  escrow: string;
}

export interface RunConfig extends ChainConfig {
  account: string;
  machineKeyFiles: string[];
  evidenceFiles: string[];
  models: { name: string; path: string }[];
  backendUrl: string;
  listen: { host: string; port: number };
  dataDir: string;
  blockSource: string;
  fromHeight: number | null;
  maxQueue: number;
  parallel: number;
  /** How long finished jobs and sessions stay in the data dir (ms); null: forever. */
  retainMs: number | null;
  json: boolean;
}

export interface WithdrawConfig extends Omit<ChainConfig, "registry"> {
  account: string;
  asset: string;
  amount: bigint | null;
  json: boolean;
}

export interface StatusConfig {
  dataDir: string;
  chain: (ChainConfig & { account: string }) | null;
  json: boolean;
}

export type Command =
  | { command: "run"; config: RunConfig }
  | { command: "withdraw"; config: WithdrawConfig }
  | { command: "status"; config: StatusConfig }
  | { command: "help" };

type Values = ReturnType<typeof parse>["values"];

function parse(argv: string[]) {
  try {
    return parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    throw usageError((error as Error).message, "run `gpu-market provider --help`");
  }
}

const ACCOUNT_ID = /^(([a-z\d]+[-_])*[a-z\d]+\.)*([a-z\d]+[-_])*[a-z\d]+$/;
const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$/;

function accountId(value: string | undefined, flag: string): string {
  if (value === undefined) throw usageError(`${flag} is required`, USAGE);
  if (value.length < 2 || value.length > 64 || !ACCOUNT_ID.test(value)) {
    throw usageError(`${flag}: "${value}" is not a NEAR account id`);
  }
  return value;
}

function count(value: string | undefined, flag: string, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  if (!/^[1-9][0-9]*$/.test(value) || Number(value) > max) {
    throw usageError(`${flag}: expected a whole number from 1 to ${max}, got "${value}"`);
  }
  return Number(value);
}

/** --retain-days: whole days from 1 to 36500, or "forever"; default 30. */
export function parseRetainDays(value: string | undefined): number | null {
  if (value === "forever") return null;
  const days = count(value, "--retain-days", 30, 36_500);
  return days * DAY_MS;
}

function httpUrl(value: string, flag: string): string {
  try {
    const url = new URL(value);
    if (url.protocol === "http:" || url.protocol === "https:") return value.replace(/\/+$/, "");
  } catch {
    // reported below
  }
  throw usageError(`${flag}: "${value}" is not an http(s) URL`);
}

export function parseListen(value: string | undefined): { host: string; port: number } {
  const text = value ?? "127.0.0.1:8080";
  const match = /^(\[[0-9a-fA-F:]+\]|[^:[\]]+):(\d{1,5})$/.exec(text);
  const port = Number(match?.[2]);
  if (match === null || port > 65535) {
    throw usageError(`--listen: expected <host>:<port> (e.g. 0.0.0.0:8080), got "${text}"`);
  }
  return { host: (match[1] as string).replace(/^\[|\]$/g, ""), port };
}

export function parseModelFlag(value: string): { name: string; path: string } {
  const at = value.indexOf("=");
  const name = at < 0 ? "" : value.slice(0, at);
  const path = at < 0 ? "" : value.slice(at + 1);
  if (!MODEL_NAME.test(name) || path === "") {
    throw usageError(
      `--model: expected <name>=<weights file>, with the name as the keyset lists it, got "${value}"`,
    );
  }
  return { name, path: resolve(path) };
}

function network(values: Values, env: NodeJS.ProcessEnv): { id: NetworkId; rpcUrl: string } {
  const id = values.network ?? "localnet";
  if (!Object.hasOwn(NETWORKS, id)) {
    throw usageError(`--network: "${id}" is not one of ${Object.keys(NETWORKS).join(", ")}`);
  }
  const net = id as NetworkId;
  const rpc = values["rpc-url"] ?? env[`NEAR_${net.toUpperCase()}_RPC_URL`] ?? NETWORKS[net].rpc;
  return { id: net, rpcUrl: httpUrl(rpc, "--rpc-url") };
}

/** The contract account of `role`: its flag, else the deployment file. */
function contract(
  role: "registry" | "escrow",
  values: Values,
  net: NetworkId,
  env: NodeJS.ProcessEnv,
): string {
  let deployment: Record<string, { account_id?: unknown } | undefined> | null = null;
  const path =
    values.deployment ??
    env.GPU_MARKET_DEPLOYMENT ??
    join(homedir(), ".gpu-market", "deployments", `${net}.json`);
  if (values[role] === undefined && existsSync(path)) {
    try {
      deployment = JSON.parse(readFileSync(path, "utf8"));
    } catch (error) {
      throw usageError(`${path}: not a deployment file (${(error as Error).message})`);
    }
  } else if (values.deployment !== undefined && !existsSync(path)) {
    throw usageError(`--deployment: ${path} does not exist`);
  }
  const given = values[role] ?? deployment?.[role]?.account_id;
  if (typeof given !== "string") {
    throw usageError(
      `which ${role}? no --${role} given and no deployment file at ${path}`,
      `pass --${role} <account>, or --deployment <file> written by \`gpu-market deploy\``,
    );
  }
  return accountId(given, `--${role}`);
}

function contracts(values: Values, net: NetworkId, env: NodeJS.ProcessEnv) {
  return {
    registry: contract("registry", values, net, env),
    escrow: contract("escrow", values, net, env),
  };
}

/**
 * --evidence-file as given; without it, the evidence register-provider kept beside each key file
 * (`<key file>.evidence`), where it exists.
 */
function evidenceFiles(given: string[] | undefined, keyFiles: string[]): string[] {
  if (given !== undefined) return given.map((f) => resolve(f));
  return keyFiles.map((f) => `${resolve(f)}.evidence`).filter((f) => existsSync(f));
}

function dataDir(values: Values): string {
  return resolve(values["data-dir"] ?? join(homedir(), ".gpu-market", "agent"));
}

export function parseCommand(argv: string[], env: NodeJS.ProcessEnv = process.env): Command {
  const { values, positionals } = parse(argv);
  const sub = positionals[0];
  if (values.help || sub === undefined || sub === "help") return { command: "help" };
  if (positionals.length > 1) throw usageError(`unexpected argument "${positionals[1]}"`, USAGE);
  const json = values.json ?? false;
  switch (sub) {
    case "run": {
      const net = network(values, env);
      const keyFiles = values["machine-key-file"] ?? [];
      if (keyFiles.length === 0) {
        throw usageError("--machine-key-file is required (one per machine)", USAGE);
      }
      const models = (values.model ?? []).map(parseModelFlag);
      if (models.length === 0) throw usageError("--model <name>=<path> is required", USAGE);
      const names = new Set<string>();
      for (const m of models) {
        if (names.has(m.name)) throw usageError(`--model: ${m.name} is given twice`);
        names.add(m.name);
      }
      if (values["backend-url"] === undefined) throw usageError("--backend-url is required", USAGE);
      const fromHeight = values["from-height"];
      if (fromHeight !== undefined && !/^(0|[1-9][0-9]{0,15})$/.test(fromHeight)) {
        throw usageError(`--from-height: expected a block height, got "${fromHeight}"`);
      }
      const blocks = values["block-source"] ?? NETWORKS[net.id].blocks ?? net.rpcUrl;
      return {
        command: "run",
        config: {
          network: net.id,
          rpcUrl: net.rpcUrl,
          ...contracts(values, net.id, env),
          account: accountId(values.account, "--account"),
          machineKeyFiles: keyFiles.map((f) => resolve(f)),
          evidenceFiles: evidenceFiles(values["evidence-file"], keyFiles),
          models,
          backendUrl: httpUrl(values["backend-url"], "--backend-url"),
          listen: parseListen(values.listen),
          dataDir: dataDir(values),
          blockSource: httpUrl(blocks, "--block-source"),
          fromHeight: fromHeight === undefined ? null : Number(fromHeight),
          maxQueue: count(values["max-queue"], "--max-queue", 8, 10_000),
          parallel: count(values.parallel, "--parallel", 4, 1024),
          retainMs: parseRetainDays(values["retain-days"]),
          json,
        },
      };
    }
    case "withdraw": {
      const net = network(values, env);
      const amount = values.amount;
      if (amount !== undefined && !/^(0|[1-9][0-9]{0,38})$/.test(amount)) {
        throw usageError(
          `--amount: expected a whole number of base units (yoctoNEAR), got "${amount}"`,
        );
      }
      const asset = values.asset ?? "NEAR";
      if (asset !== "NEAR") accountId(asset, "--asset");
      return {
        command: "withdraw",
        config: {
          network: net.id,
          rpcUrl: net.rpcUrl,
          escrow: contract("escrow", values, net.id, env),
          account: accountId(values.account, "--account"),
          asset,
          amount: amount === undefined ? null : BigInt(amount),
          json,
        },
      };
    }
    case "status": {
      let chain: StatusConfig["chain"] = null;
      if (values.account !== undefined) {
        const net = network(values, env);
        chain = {
          network: net.id,
          rpcUrl: net.rpcUrl,
          ...contracts(values, net.id, env),
          account: accountId(values.account, "--account"),
        };
      }
      return { command: "status", config: { dataDir: dataDir(values), chain, json } };
    }
    default:
      throw usageError(`unknown subcommand "${sub}"`, USAGE);
  }
}
