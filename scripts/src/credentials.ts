/**
 * Account keys in near-cli's keystore layout: <dir>/<network>/<account>.json holding
 * {"account_id", "public_key", "private_key"} with mode 0600. <dir> is NEAR_CREDENTIALS_DIR or
 * ~/.near-credentials. NEAR_PRIVATE_KEY (with NEAR_ACCOUNT_ID naming its account) overrides the
 * file for that one account, for CI and containers.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { KeyPair, type KeyPairString } from "near-api-js";
import { CliError } from "./errors.ts";

const KEY_TEXT = /^ed25519:[1-9A-HJ-NP-Za-km-z]{32,128}$/;

export interface KeyFile {
  account_id: string;
  public_key: string;
  private_key: string;
}

export function credentialsDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.NEAR_CREDENTIALS_DIR ?? join(homedir(), ".near-credentials");
}

export function keyPath(dir: string, network: string, accountId: string): string {
  return join(dir, network, `${accountId}.json`);
}

/** The file's mode bits allow nobody but the owner: refuse keys others can read. */
export function requirePrivateMode(path: string): void {
  const mode = statSync(path).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new CliError(
      `${path} is readable by other users (mode ${mode.toString(8).padStart(4, "0")}); refusing to use the key`,
      { hint: `chmod 600 ${path}` },
    );
  }
}

/** Reads and checks a near-cli key file; the public key must belong to the private key. */
export function readKeyFile(path: string, accountId?: string): KeyFile {
  requirePrivateMode(path);
  let value: Record<string, unknown>;
  try {
    value = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new CliError(`${path}: not a JSON key file (${(error as Error).message})`, {
      hint: "restore it from a backup, or remove it to generate a new key",
    });
  }
  const secret = value.private_key ?? value.secret_key;
  if (typeof secret !== "string" || !KEY_TEXT.test(secret)) {
    throw new CliError(`${path}: private_key is missing or not "ed25519:<base58>"`);
  }
  const keyPair = KeyPair.fromString(secret as KeyPairString);
  const publicKey = keyPair.getPublicKey().toString();
  if (value.public_key !== undefined && value.public_key !== publicKey) {
    throw new CliError(
      `${path}: public_key ${String(value.public_key)} does not match private_key`,
    );
  }
  const owner = typeof value.account_id === "string" ? value.account_id : (accountId ?? "");
  if (accountId !== undefined && owner !== accountId) {
    throw new CliError(`${path}: holds the key of ${owner}, not ${accountId}`);
  }
  return { account_id: owner, public_key: publicKey, private_key: secret };
}

/** Writes a key file with mode 0600 (its folder 0700); never overwrites. */
export function writeKeyFile(path: string, file: KeyFile): void {
  if (existsSync(path)) {
    throw new CliError(`${path} already exists; refusing to overwrite a key`, {
      hint: "move it away first if you really mean to replace it",
    });
  }
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  writeFileSync(path, `${JSON.stringify(file)}\n`, { mode: 0o600, flag: "wx" });
  chmodSync(path, 0o600); // the umask may have narrowed nothing, but never widen
}

export interface Credentials {
  dir: string;
  env: NodeJS.ProcessEnv;
}

export function defaultCredentials(env: NodeJS.ProcessEnv = process.env): Credentials {
  return { dir: credentialsDir(env), env };
}

/** The private key of `accountId` on `network`, from the environment or the keystore. */
export function loadAccountKey(
  creds: Credentials,
  network: string,
  accountId: string,
): KeyPairString {
  const fromEnv = creds.env.NEAR_PRIVATE_KEY;
  if (fromEnv !== undefined && fromEnv !== "" && creds.env.NEAR_ACCOUNT_ID === accountId) {
    if (!KEY_TEXT.test(fromEnv)) {
      throw new CliError('NEAR_PRIVATE_KEY is not "ed25519:<base58>"');
    }
    return fromEnv as KeyPairString;
  }
  const path = keyPath(creds.dir, network, accountId);
  if (!existsSync(path)) {
    throw new CliError(`no key for ${accountId} on ${network}: ${path} does not exist`, {
      hint:
        network === "localnet"
          ? `run \`gpu-market deploy --network localnet\` (it creates funded accounts), or set NEAR_ACCOUNT_ID=${accountId} and NEAR_PRIVATE_KEY`
          : `run \`near account import-account\` (near-cli-rs, saving to the legacy keychain) or \`near login\`, or set NEAR_ACCOUNT_ID=${accountId} and NEAR_PRIVATE_KEY`,
    });
  }
  return readKeyFile(path, accountId).private_key as KeyPairString;
}

/** Stores a new account's key in the keystore (deploy does this for the accounts it creates). */
export function saveAccountKey(
  creds: Credentials,
  network: string,
  accountId: string,
  keyPair: KeyPair,
): string {
  const path = keyPath(creds.dir, network, accountId);
  writeKeyFile(path, {
    account_id: accountId,
    public_key: keyPair.getPublicKey().toString(),
    private_key: keyPair.toString(),
  });
  return path;
}
