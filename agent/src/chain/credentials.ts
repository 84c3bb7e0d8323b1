/**
 * The provider account's key, where near-cli keeps it: <dir>/<network>/<account>.json (mode 0600)
 * with <dir> = NEAR_CREDENTIALS_DIR or ~/.near-credentials; or NEAR_PRIVATE_KEY when
 * NEAR_ACCOUNT_ID names the account (containers, CI). The same rules as the gpu-market CLI.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { KeyPair, type KeyPairString } from "near-api-js";
import { AgentError } from "../errors.ts";

const KEY_TEXT = /^ed25519:[1-9A-HJ-NP-Za-km-z]{32,128}$/;

export function accountKeyPath(network: string, accountId: string, env: NodeJS.ProcessEnv): string {
  const dir = env.NEAR_CREDENTIALS_DIR ?? join(homedir(), ".near-credentials");
  return join(dir, network, `${accountId}.json`);
}

export function loadAccountKey(
  network: string,
  accountId: string,
  env: NodeJS.ProcessEnv = process.env,
): KeyPairString {
  const fromEnv = env.NEAR_PRIVATE_KEY;
  if (fromEnv !== undefined && fromEnv !== "" && env.NEAR_ACCOUNT_ID === accountId) {
    if (!KEY_TEXT.test(fromEnv)) throw new AgentError('NEAR_PRIVATE_KEY is not "ed25519:<base58>"');
    return fromEnv as KeyPairString;
  }
  const path = accountKeyPath(network, accountId, env);
  if (!existsSync(path)) {
    throw new AgentError(`no key for ${accountId} on ${network}: ${path} does not exist`, {
      hint: `import the provider account's key with near-cli, or set NEAR_ACCOUNT_ID=${accountId} and NEAR_PRIVATE_KEY`,
    });
  }
  const mode = statSync(path).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new AgentError(`${path} is readable by other users; refusing to use the key`, {
      hint: `chmod 600 ${path}`,
    });
  }
  let value: Record<string, unknown>;
  try {
    value = JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
  } catch (error) {
    throw new AgentError(`${path}: not a JSON key file (${(error as Error).message})`);
  }
  const secret = value.private_key ?? value.secret_key;
  if (typeof secret !== "string" || !KEY_TEXT.test(secret)) {
    throw new AgentError(`${path}: private_key is missing or not "ed25519:<base58>"`);
  }
  if (typeof value.account_id === "string" && value.account_id !== accountId) {
    throw new AgentError(`${path}: holds the key of ${value.account_id}, not ${accountId}`);
  }
  const publicKey = KeyPair.fromString(secret as KeyPairString)
    .getPublicKey()
    .toString();
  if (value.public_key !== undefined && value.public_key !== publicKey) {
    throw new AgentError(`${path}: public_key does not match private_key`);
  }
  return secret as KeyPairString;
}
