/**
 * Machine keysets: the signing key, encryption key and models a machine's TEE attests, and the
 * sha256 of their canonical document (inference-messages.ts keysetBytes), which names the provider
 * and this registry too. REPORTDATA carries that hash, so evidence vouches for exactly one keyset.
 */
import { near } from "near-sdk-js";
import { toHex } from "../../common/src/encoding.ts";
import { fail } from "../../common/src/errors.ts";
import {
  keysetBytes,
  parseEncryptionKey,
  parseModels,
} from "../../common/src/inference-messages.ts";
import type { Machine, MachineKeyset } from "../../common/src/registry-types.ts";
import { readRecord, removeRecord, writeRecord } from "../../common/src/store.ts";
import { publicKeyKey } from "./keys.ts";
import { parseMachineKey } from "./machine-key.ts";
import { getMachine } from "./machine-store.ts";

export const KEYSET_FIELDS = ["machine_public_key", "encryption_key", "models"] as const;

/** The keyset named by args' machine_public_key, encryption_key and models (all validated). */
export function parseKeyset(args: Record<string, unknown>, provider: string): MachineKeyset {
  const signingKey = parseMachineKey(args.machine_public_key, "machine_public_key").text;
  const encryptionKey = parseEncryptionKey(args.encryption_key, "encryption_key");
  const models = parseModels(args.models, "models");
  const digest = near.sha256(
    keysetBytes({
      account: provider,
      registry: near.currentAccountId(),
      signing_key: signingKey,
      encryption_key: encryptionKey,
      models,
    }),
  );
  return {
    machine_public_key: signingKey,
    encryption_key: encryptionKey,
    models,
    keyset_sha256: toHex(digest),
  };
}

/** A new keyset in args (all three fields together), or null when args name none of them. */
export function parseOptionalKeyset(
  args: Record<string, unknown>,
  provider: string,
): MachineKeyset | null {
  const given = KEYSET_FIELDS.filter((field) => args[field] !== undefined);
  if (given.length === 0) {
    return null;
  }
  const missing = KEYSET_FIELDS.filter((field) => args[field] === undefined);
  if (missing.length > 0) {
    fail(
      `a new keyset needs machine_public_key, encryption_key and models together; missing ${missing.join(", ")}`,
    );
  }
  return parseKeyset(args, provider);
}

/** The machine's current keyset; null for a machine stored before keysets (state version 1). */
export function currentKeyset(machine: Machine): MachineKeyset | null {
  if (machine.encryption_key === null || machine.keyset_sha256 === null) {
    return null;
  }
  return {
    machine_public_key: machine.machine_public_key,
    encryption_key: machine.encryption_key,
    models: machine.models,
    keyset_sha256: machine.keyset_sha256,
  };
}

/**
 * Makes `keyset` the machine's current keyset (the caller saves the record); the signing key it
 * replaces is freed.
 */
export function setCurrentKeyset(machine: Machine, keyset: MachineKeyset): void {
  if (machine.machine_public_key !== keyset.machine_public_key) {
    releaseMachineKey(machine.machine_public_key, machine.id);
  }
  machine.machine_public_key = keyset.machine_public_key;
  machine.encryption_key = keyset.encryption_key;
  machine.models = keyset.models;
  machine.keyset_sha256 = keyset.keyset_sha256;
  machine.next_keyset = null;
}

/** Whether machine `machineId` holds `key`: as its current signing key or its pending next one. */
function holdsKey(machineId: string, key: string): boolean {
  const machine = getMachine(machineId);
  return (
    machine !== null &&
    (machine.machine_public_key === key || machine.next_keyset?.machine_public_key === key)
  );
}

/**
 * Records `key` as this machine's, or fails while another machine holds it (as its current or
 * pending signing key). A marker whose machine no longer holds the key is stale and is taken over:
 * markers written before keys were freed (state version 2 kept rotated-away keys for ever).
 */
export function reserveMachineKey(key: string, machineId: string): void {
  const owner = readRecord<string>(publicKeyKey(key));
  if (owner === machineId) {
    return;
  }
  if (owner !== null && holdsKey(owner, key)) {
    fail(`machine key ${key} is already registered (machine ${owner})`);
  }
  writeRecord(publicKeyKey(key), machineId);
}

/**
 * Frees `key` when machine `machineId` has its marker: the machine was removed, or the key left its
 * keyset. Anyone holding the key (proved by its signature) may register it again.
 */
export function releaseMachineKey(key: string, machineId: string): void {
  if (readRecord<string>(publicKeyKey(key)) === machineId) {
    removeRecord(publicKeyKey(key));
  }
}
