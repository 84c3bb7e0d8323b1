/**
 * What every command shares: the common flags, and from them the network, the credentials, the
 * chain client, the deployment file and the output.
 */
import { type ParseArgsConfig, parseArgs } from "node:util";
import { type Credentials, defaultCredentials } from "./credentials.ts";
import {
  type ContractRole,
  contractId,
  type Deployment,
  deploymentPath,
  readDeployment,
} from "./deployment.ts";
import { messageOf, usageError } from "./errors.ts";
import { consoleIo, type Io } from "./io.ts";
import { Chain } from "./near.ts";
import { resolveNetwork } from "./network.ts";

export const COMMON_OPTIONS = {
  network: { type: "string" },
  "rpc-url": { type: "string" },
  account: { type: "string" },
  deployment: { type: "string" },
  registry: { type: "string" },
  escrow: { type: "string" },
  governance: { type: "string" },
  json: { type: "boolean", default: false },
  help: { type: "boolean", default: false },
} as const;

type Options = NonNullable<ParseArgsConfig["options"]>;

/** parseArgs over the common flags plus the command's, with usage errors naming the fix. */
export function parseCommand<T extends Options>(argv: string[], options: T, usage: string) {
  try {
    return parseArgs({
      args: argv,
      options: { ...COMMON_OPTIONS, ...options },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    throw usageError(messageOf(error), usage);
  }
}

export interface Context {
  io: Io;
  chain: Chain;
  creds: Credentials;
  deploymentPath: string;
  deployment: Deployment | null;
  contract(role: ContractRole): string;
  /** --account, required. */
  account(what: string): string;
}

export interface CommonValues {
  network?: string;
  "rpc-url"?: string;
  account?: string;
  deployment?: string;
  registry?: string;
  escrow?: string;
  governance?: string;
  json?: boolean;
}

export function context(values: CommonValues, env: NodeJS.ProcessEnv = process.env): Context {
  const network = resolveNetwork(values.network, values["rpc-url"], env);
  const creds = defaultCredentials(env);
  const path = deploymentPath(network.id, values.deployment, env);
  const deployment = readDeployment(path);
  return {
    io: consoleIo(values.json ?? false),
    chain: new Chain(network, creds),
    creds,
    deploymentPath: path,
    deployment,
    contract: (role) => contractId(role, values[role], deployment, path),
    account(what) {
      const id = values.account ?? env.NEAR_ACCOUNT_ID;
      if (id === undefined) {
        throw usageError(`which account ${what}? pass --account <id>`, "or set NEAR_ACCOUNT_ID");
      }
      return id;
    },
  };
}

export function required(value: string | undefined, flag: string, usage: string): string {
  if (value === undefined || value === "") throw usageError(`${flag} is required`, usage);
  return value;
}

export function positional(list: string[], index: number, what: string, usage: string): string {
  const value = list[index];
  if (value === undefined) throw usageError(`missing ${what}`, usage);
  return value;
}

export function proposalIdArg(text: string): number {
  if (!/^\d{1,9}$/.test(text)) throw usageError(`proposal id "${text}" is not a number`);
  return Number(text);
}

export function wholeNumber(text: string | undefined, flag: string, fallback: number): number {
  if (text === undefined) return fallback;
  if (!/^\d{1,9}$/.test(text)) throw usageError(`${flag}: "${text}" is not a whole number`);
  return Number(text);
}
