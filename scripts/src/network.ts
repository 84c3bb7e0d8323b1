/**
 * Networks and their RPC endpoints. The URL comes from --rpc-url, else NEAR_<NETWORK>_RPC_URL
 * (e.g. NEAR_TESTNET_RPC_URL), else the public default.
 */
import { usageError } from "./errors.ts";

export const NETWORKS = ["localnet", "testnet", "mainnet"] as const;
export type NetworkId = (typeof NETWORKS)[number];

export const DEFAULT_RPC_URLS: Record<NetworkId, string> = {
  localnet: "http://127.0.0.1:3030",
  testnet: "https://rpc.testnet.near.org",
  mainnet: "https://rpc.mainnet.near.org",
};

export interface Network {
  id: NetworkId;
  rpcUrl: string;
}

export function parseNetworkId(value: string | undefined): NetworkId {
  const id = value ?? "localnet";
  if (!(NETWORKS as readonly string[]).includes(id)) {
    throw usageError(`--network: "${id}" is not a network`, `use one of ${NETWORKS.join(", ")}`);
  }
  return id as NetworkId;
}

export function resolveNetwork(
  name: string | undefined,
  rpcUrl: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): Network {
  const id = parseNetworkId(name);
  const url = rpcUrl ?? env[`NEAR_${id.toUpperCase()}_RPC_URL`] ?? DEFAULT_RPC_URLS[id];
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:") throw new Error("scheme");
  } catch {
    throw usageError(`RPC URL "${url}" is not an http(s) URL`, "pass --rpc-url https://...");
  }
  return { id, rpcUrl: url };
}
