/**
 * The verifier account's key: NEAR_PRIVATE_KEY in the environment, or the near-cli keystore file
 * ~/.near-credentials/<network>/<account>.json ({"account_id", "public_key", "private_key"}).
 */
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import type { KeyPairString } from "near-api-js";

export function loadPrivateKey(
  network: string,
  account: string,
  env: NodeJS.ProcessEnv = process.env,
  dir = join(homedir(), ".near-credentials"),
): KeyPairString {
  const fromEnv = env.NEAR_PRIVATE_KEY;
  if (fromEnv !== undefined && fromEnv !== "") {
    if (!/^(ed25519|secp256k1):[1-9A-HJ-NP-Za-km-z]+$/.test(fromEnv)) {
      throw new Error("NEAR_PRIVATE_KEY: expected ed25519:<base58>");
    }
    return fromEnv as KeyPairString;
  }
  const path = join(dir, network, `${account}.json`);
  let value: { account_id?: unknown; private_key?: unknown; secret_key?: unknown };
  try {
    value = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new Error(
      `no key for ${account}: set NEAR_PRIVATE_KEY or create ${path} (${(error as Error).message})`,
    );
  }
  const key = value.private_key ?? value.secret_key;
  if (typeof key !== "string") {
    throw new Error(`${path}: no private_key`);
  }
  if (value.account_id !== undefined && value.account_id !== account) {
    throw new Error(`${path}: holds the key of ${String(value.account_id)}, not ${account}`);
  }
  return key as KeyPairString;
}
