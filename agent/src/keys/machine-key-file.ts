/**
 * A machine key file, as register-provider writes it (mode 0600): the machine's ed25519 signing key
 * in near-cli's format plus its X25519 pair,
 *   {account_id: "machine", public_key, private_key, encryption_key, encryption_private_key,
 *    keyset?: {machine_id, account, registry, models, keyset_sha256}}
 * (`keyset` once registered). Both secrets were generated inside the TEE and never leave it; the
 * agent reads them, checks that each public key belongs to its secret, and refuses a file other
 * users can read.
 */
import { readFileSync, statSync } from "node:fs";
import { encryptionPublicKey, signingPublicKey } from "@gpu-market/protocol";
import { ed25519 } from "@noble/curves/ed25519.js";
import { baseDecode } from "near-api-js";
import { AgentError } from "../errors.ts";

export interface MachineKeys {
  /** "ed25519:<base58>": the registry's machine_public_key. */
  signingKey: string;
  /** "x25519:<64 hex>": the registry's encryption_key. */
  encryptionKey: string;
  /** ed25519 secret seed (32 bytes). */
  signing: Uint8Array;
  /** X25519 secret scalar (32 bytes). */
  encryption: Uint8Array;
  /** Where register-provider registered these keys, when the file says. */
  registered?: { machine_id: string; account: string; registry: string };
}

const HEX64 = /^[0-9a-f]{64}$/;

function requirePrivateMode(path: string): void {
  const mode = statSync(path).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new AgentError(
      `${path} is readable by other users (mode ${mode.toString(8).padStart(4, "0")}); refusing to use the machine key`,
      { hint: `chmod 600 ${path}` },
    );
  }
}

/** "ed25519:<base58 of seed||public key (64 bytes) or seed (32 bytes)>" to the 32-byte seed. */
export function parseSigningSecret(text: unknown, field: string): Uint8Array {
  if (typeof text !== "string" || !text.startsWith("ed25519:")) {
    throw new AgentError(`${field}: expected "ed25519:<base58>"`);
  }
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(baseDecode(text.slice("ed25519:".length)));
  } catch {
    throw new AgentError(`${field}: not base58`);
  }
  if (bytes.length !== 64 && bytes.length !== 32) {
    throw new AgentError(
      `${field}: an ed25519 secret key is 64 (or 32) bytes, got ${bytes.length}`,
    );
  }
  const seed = bytes.slice(0, 32);
  if (bytes.length === 64) {
    const publicKey = ed25519.getPublicKey(seed);
    if (Buffer.compare(Buffer.from(publicKey), Buffer.from(bytes.slice(32))) !== 0) {
      throw new AgentError(`${field}: its public half does not belong to its secret`);
    }
  }
  return seed;
}

/** "x25519:<64 hex>" to the 32-byte secret scalar. */
export function parseEncryptionSecret(text: unknown, field: string): Uint8Array {
  if (typeof text !== "string" || !text.startsWith("x25519:") || !HEX64.test(text.slice(7))) {
    throw new AgentError(`${field}: expected "x25519:<64 lowercase hex>"`);
  }
  return new Uint8Array(Buffer.from(text.slice(7), "hex"));
}

/** Builds and checks the keys; `given` public keys must belong to the secrets. */
export function machineKeys(
  signing: Uint8Array,
  encryption: Uint8Array,
  given: { signingKey?: unknown; encryptionKey?: unknown },
  where: string,
): MachineKeys {
  const signingKey = signingPublicKey(signing);
  const encryptionKey = encryptionPublicKey(encryption);
  if (given.signingKey !== undefined && given.signingKey !== signingKey) {
    throw new AgentError(
      `${where}: public_key ${String(given.signingKey)} is not the signing secret's (${signingKey})`,
    );
  }
  if (given.encryptionKey !== undefined && given.encryptionKey !== encryptionKey) {
    throw new AgentError(
      `${where}: encryption_key ${String(given.encryptionKey)} is not the encryption secret's (${encryptionKey})`,
    );
  }
  return { signingKey, encryptionKey, signing, encryption };
}

export function readMachineKeyFile(path: string): MachineKeys {
  let value: Record<string, unknown>;
  try {
    requirePrivateMode(path);
    value = JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
  } catch (error) {
    if (error instanceof AgentError) throw error;
    throw new AgentError(`machine key file ${path}: ${(error as Error).message}`, {
      hint: "pass the file register-provider wrote (--machine-key-file)",
    });
  }
  if (typeof value !== "object" || value === null) {
    throw new AgentError(`machine key file ${path}: not a JSON object`);
  }
  const signing = parseSigningSecret(value.private_key, `${path}: private_key`);
  const encryption = parseEncryptionSecret(
    value.encryption_private_key,
    `${path}: encryption_private_key`,
  );
  const keys = machineKeys(
    signing,
    encryption,
    { signingKey: value.public_key, encryptionKey: value.encryption_key },
    path,
  );
  const keyset = value.keyset as Record<string, unknown> | undefined;
  if (keyset === undefined) return keys;
  if (
    typeof keyset !== "object" ||
    keyset === null ||
    typeof keyset.machine_id !== "string" ||
    typeof keyset.account !== "string" ||
    typeof keyset.registry !== "string"
  ) {
    throw new AgentError(
      `machine key file ${path}: keyset is not {machine_id, account, registry, ...}`,
    );
  }
  return {
    ...keys,
    registered: {
      machine_id: keyset.machine_id,
      account: keyset.account,
      registry: keyset.registry,
    },
  };
}
