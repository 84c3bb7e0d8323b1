/**
 * localnet in this process, with its chain kept under the stack's data folder (a second start
 * resumes it), and test.near's key in the stack's own near-cli keystore.
 */
import { existsSync, rmSync } from "node:fs";
import { KeyPair, type KeyPairString } from "near-api-js";
import { type Localnet, startLocalnet } from "../../../localnet/src/index.ts";
import { createRuntime } from "../../../localnet/src/runtime/index.ts";
import { runFunctionCall } from "../../../localnet/src/vm/index.ts";
import { type Credentials, keyPath, readKeyFile, saveAccountKey } from "../credentials.ts";
import { type DevLog, since } from "./log.ts";

export interface LocalnetService {
  net: Localnet;
  /** The final height when the node came up. */
  height: number;
  resumed: boolean;
}

export async function startDevLocalnet(
  options: { home: string; host: string; port: number; blockIntervalMs: number },
  log: DevLog,
): Promise<LocalnetService> {
  const started = performance.now();
  const net = await startLocalnet({
    runtime: createRuntime(runFunctionCall),
    home: options.home,
    host: options.host,
    port: options.port,
    blockIntervalMs: options.blockIntervalMs,
    persist: true,
  });
  const height = Number(net.node.blockAt("final").height);
  const resumed = height > 0;
  const dropped = net.chainLog?.droppedBytes ?? 0;
  if (dropped > 0)
    log.warn(
      "localnet",
      `dropped ${dropped} bytes of an unfinished block at the end of the chain log`,
    );
  log.info(
    "localnet",
    `ready in ${since(started)} · ${net.rpcUrl} · ${resumed ? `resumed at height ${height}` : "new chain"}`,
  );
  return { net, height, resumed };
}

/**
 * Puts the validator's key (test.near, which funds everything) into the keystore; a key left from
 * another chain (the chain was removed, the keystore kept) is replaced.
 */
export function saveValidatorKey(creds: Credentials, net: Localnet): string {
  const { accountId, secretKey } = net.accounts.validator;
  const path = keyPath(creds.dir, "localnet", accountId);
  if (existsSync(path)) {
    if (readKeyFile(path, accountId).private_key === secretKey) return accountId;
    rmSync(path);
  }
  saveAccountKey(creds, "localnet", accountId, KeyPair.fromString(secretKey as KeyPairString));
  return accountId;
}
