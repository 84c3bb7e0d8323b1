/**
 * The machine key: an ed25519 key pair the machine signs job results with, bound into its TEE
 * evidence. Kept as JSON in near-cli's key format with mode 0600; generated on first use, reused
 * after, and refused if the file's permissions let others read it.
 */
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { KeyPair, type KeyPairString } from "near-api-js";
import { readKeyFile, writeKeyFile } from "./credentials.ts";

export interface MachineKey {
  path: string;
  publicKey: string;
  keyPair: KeyPair;
  created: boolean;
}

export function defaultMachineKeyPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.GPU_MARKET_MACHINE_KEY ?? join(homedir(), ".gpu-market", "machine-key.json");
}

/** Reuses the key at `path`, or makes one and (unless `write` is false: dry runs) stores it. */
export function loadOrCreateMachineKey(
  path: string,
  options: { write?: boolean } = {},
): MachineKey {
  if (existsSync(path)) {
    const file = readKeyFile(path);
    return {
      path,
      publicKey: file.public_key,
      keyPair: KeyPair.fromString(file.private_key as KeyPairString),
      created: false,
    };
  }
  const keyPair = KeyPair.fromRandom("ed25519");
  const publicKey = keyPair.getPublicKey().toString();
  if (options.write ?? true) {
    writeKeyFile(path, {
      account_id: "machine",
      public_key: publicKey,
      private_key: keyPair.toString(),
    });
  }
  return { path, publicKey, keyPair, created: true };
}
