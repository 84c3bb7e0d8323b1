/**
 * The node's home folder, as near-sandbox lays it out: genesis.json, config.json, node_key.json
 * and validator_key.json (the key near-workspaces signs with as test.near). Files are written
 * atomically (temporary file, then rename).
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createGenesis, type Genesis, parseGenesis, VALIDATOR_ACCOUNT } from "./genesis.ts";
import { type KeyPair, keyFile, keyPairFromSecret, randomKeyPair } from "./keys.ts";

export interface Home {
  dir: string;
  genesis: Genesis;
  validatorKey: KeyPair;
  nodeKey: KeyPair;
}

export function writeFileAtomic(path: string, text: string): void {
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, text);
  renameSync(temporary, path);
}

function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new Error(`cannot read ${path}: ${(error as Error).message}`);
  }
}

function readKeyFile(path: string): KeyPair {
  const value = readJson(path) as Record<string, unknown>;
  const secret = value.secret_key ?? value.private_key;
  if (typeof secret !== "string") throw new Error(`${path} has no "secret_key"`);
  return keyPairFromSecret(secret);
}

/** Writes a fresh home (near-sandbox `init`); `rpcAddr` goes into config.json. */
export function initHome(dir: string, rpcAddr = "0.0.0.0:3030"): Home {
  mkdirSync(dir, { recursive: true });
  const validatorKey = randomKeyPair();
  const nodeKey = randomKeyPair();
  const genesis = createGenesis(validatorKey);
  writeFileAtomic(
    join(dir, "genesis.json"),
    `${JSON.stringify({ ...genesis.config, records: genesis.records }, null, 2)}\n`,
  );
  writeFileAtomic(
    join(dir, "config.json"),
    `${JSON.stringify({ genesis_file: "genesis.json", rpc: { addr: rpcAddr }, node: "localnet" }, null, 2)}\n`,
  );
  writeFileAtomic(
    join(dir, "node_key.json"),
    `${JSON.stringify(keyFile("node", nodeKey), null, 2)}\n`,
  );
  writeFileAtomic(
    join(dir, "validator_key.json"),
    `${JSON.stringify(keyFile(VALIDATOR_ACCOUNT, validatorKey), null, 2)}\n`,
  );
  return { dir, genesis, validatorKey, nodeKey };
}

/** Reads a home written by initHome (or by near-sandbox init). */
export function loadHome(dir: string): Home {
  const genesisPath = join(dir, "genesis.json");
  if (!existsSync(genesisPath)) {
    throw new Error(`${genesisPath} does not exist: run \`near-sandbox --home ${dir} init\` first`);
  }
  return {
    dir,
    genesis: parseGenesis(readJson(genesisPath), genesisPath),
    validatorKey: readKeyFile(join(dir, "validator_key.json")),
    nodeKey: readKeyFile(join(dir, "node_key.json")),
  };
}
