/**
 * Where the market's contracts live on a network. `deploy` writes this file; the other commands
 * read contract ids from it unless --registry / --escrow / --governance name them. Default path:
 * GPU_MARKET_DEPLOYMENT, else ~/.gpu-market/deployments/<network>.json.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { CliError } from "./errors.ts";

export interface DeployedContract {
  account_id: string;
  sha256: string;
  code_hash: string;
}

export interface Deployment {
  network: string;
  rpc_url: string;
  registry: DeployedContract;
  escrow: DeployedContract;
  governance: DeployedContract;
  treasury: string;
  arbiter: string;
  deployed_at: string;
}

export function deploymentPath(
  network: string,
  given: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): string {
  return (
    given ??
    env.GPU_MARKET_DEPLOYMENT ??
    join(homedir(), ".gpu-market", "deployments", `${network}.json`)
  );
}

export function readDeployment(path: string): Deployment | null {
  if (!existsSync(path)) return null;
  try {
    return JSON.parse(readFileSync(path, "utf8")) as Deployment;
  } catch (error) {
    throw new CliError(`${path}: not a deployment file (${(error as Error).message})`, {
      hint: "remove it and run `gpu-market deploy` again, or name contracts with --registry/--escrow/--governance",
    });
  }
}

export function writeDeployment(path: string, deployment: Deployment): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(deployment, null, 2)}\n`);
}

export type ContractRole = "registry" | "escrow" | "governance";

/** The account id of a contract: the flag if given, else the deployment file. */
export function contractId(
  role: ContractRole,
  flag: string | undefined,
  deployment: Deployment | null,
  path: string,
): string {
  if (flag !== undefined) return flag;
  const id = deployment?.[role]?.account_id;
  if (id === undefined) {
    throw new CliError(`which ${role}? no --${role} given and no deployment file at ${path}`, {
      hint: `pass --${role} <account>, or --deployment <file> written by \`gpu-market deploy\``,
    });
  }
  return id;
}
