/**
 * The machine's keys, generated inside the TEE and bound into its evidence through the keyset: an
 * ed25519 key pair that signs receipts and failures, and an X25519 key pair clients encrypt their
 * requests to. One JSON file with mode 0600, in near-cli's format plus the X25519 pair:
 * {account_id: "machine", public_key, private_key, encryption_key, encryption_private_key}, and,
 * once registered, the keyset it was registered with (`keyset`). Generated on first use, reused
 * after, refused if others can read it. The provider agent serves from this file. Private keys
 * are never printed.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import {
  type ModelEntry,
  machineKeyProofBytes,
} from "@gpu-market/common/src/inference-messages.ts";
import { x25519 } from "@noble/curves/ed25519.js";
import { KeyPair, type KeyPairString } from "near-api-js";
import { type KeyFile, readKeyFile, writeKeyFile } from "./credentials.ts";
import { CliError } from "./errors.ts";

export interface MachineKey {
  path: string;
  /** "ed25519:<base58>": the registry's machine_public_key. */
  publicKey: string;
  keyPair: KeyPair;
  /** "x25519:<64 hex>": the registry's encryption_key. */
  encryptionKey: string;
  created: boolean;
}

/** The keyset a key file's keys were registered with (register-provider records it). */
export interface RegisteredKeyset {
  machine_id: string;
  account: string;
  registry: string;
  models: ModelEntry[];
  keyset_sha256: string;
}

interface MachineKeyFile extends KeyFile {
  encryption_key: string;
  encryption_private_key: string;
  keyset?: RegisteredKeyset;
}

const X25519_KEY = /^x25519:[0-9a-f]{64}$/;

export function defaultMachineKeyPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.GPU_MARKET_MACHINE_KEY ?? join(homedir(), ".gpu-market", "machine-key.json");
}

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex");

/** The key file's contents, every key checked against its private half. */
function readMachineKeyFile(path: string): MachineKeyFile {
  const signing = readKeyFile(path);
  const value = JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
  const secret = value.encryption_private_key;
  if (secret === undefined) {
    throw new CliError(`${path} holds no X25519 encryption key (written before keysets)`, {
      hint: "move the file away: register-provider then makes a new machine key pair with both keys",
    });
  }
  if (typeof secret !== "string" || !X25519_KEY.test(secret)) {
    throw new CliError(`${path}: encryption_private_key is not "x25519:<64 lowercase hex>"`);
  }
  const encryptionKey = `x25519:${hex(x25519.getPublicKey(Buffer.from(secret.slice(7), "hex")))}`;
  if (value.encryption_key !== encryptionKey) {
    throw new CliError(
      `${path}: encryption_key ${String(value.encryption_key)} does not match encryption_private_key`,
    );
  }
  return {
    ...signing,
    encryption_key: encryptionKey,
    encryption_private_key: secret,
    ...(value.keyset === undefined ? {} : { keyset: value.keyset as RegisteredKeyset }),
  };
}

/** Reuses the keys at `path`, or makes both pairs and (unless `write` is false: dry runs) stores them. */
export function loadOrCreateMachineKey(
  path: string,
  options: { write?: boolean } = {},
): MachineKey {
  if (existsSync(path)) {
    const file = readMachineKeyFile(path);
    return {
      path,
      publicKey: file.public_key,
      keyPair: KeyPair.fromString(file.private_key as KeyPairString),
      encryptionKey: file.encryption_key,
      created: false,
    };
  }
  const keyPair = KeyPair.fromRandom("ed25519");
  const encryptionSecret = x25519.utils.randomSecretKey();
  const file: MachineKeyFile = {
    account_id: "machine",
    public_key: keyPair.getPublicKey().toString(),
    private_key: keyPair.toString(),
    encryption_key: `x25519:${hex(x25519.getPublicKey(encryptionSecret))}`,
    encryption_private_key: `x25519:${hex(encryptionSecret)}`,
  };
  if (options.write ?? true) {
    writeKeyFile(path, file);
  }
  return {
    path,
    publicKey: file.public_key,
    keyPair,
    encryptionKey: file.encryption_key,
    created: true,
  };
}

/**
 * Records in the key file the keyset its keys were registered with, so that the file says which
 * machine it serves. The keys themselves are kept as they are; the file is replaced atomically
 * with the same mode (0600).
 */
export function recordRegisteredKeyset(path: string, keyset: RegisteredKeyset): void {
  const file = readMachineKeyFile(path);
  const partial = `${path}.${process.pid}.partial`;
  writeFileSync(partial, `${JSON.stringify({ ...file, keyset })}\n`, { mode: 0o600, flag: "wx" });
  renameSync(partial, path);
}

/**
 * Where register-provider keeps the evidence a key file's keys were registered with: beside the
 * key file, `<key file>.evidence`. The provider agent serves it at /v1/attestation.
 */
export function evidencePathFor(keyPath: string): string {
  return `${keyPath}.evidence`;
}

/** Writes the submitted evidence bytes beside the key file, atomically (evidence is public). */
export function saveEvidence(keyPath: string, bytes: Uint8Array): string {
  const path = evidencePathFor(keyPath);
  const partial = `${path}.${process.pid}.partial`;
  writeFileSync(partial, bytes, { mode: 0o644, flag: "wx" });
  renameSync(partial, path);
  return path;
}

/**
 * The key's proof of possession that add_machine (and submit_evidence for a new key) require:
 * its ed25519 signature (128 hex digits) over sha256 of the canonical machine-key document naming
 * the registry, the provider and the nonce of the provider's open challenge for the key.
 */
export function machineKeyProof(
  key: Pick<MachineKey, "publicKey" | "keyPair">,
  binding: { registry: string; account: string; nonce: string },
): string {
  const document = machineKeyProofBytes({ ...binding, signing_key: key.publicKey });
  const digest = createHash("sha256").update(document).digest();
  return Buffer.from(key.keyPair.sign(digest).signature).toString("hex");
}
