/**
 * Every machine key the agent may still need: the current ones (from --machine-key-file) and the
 * previous ones, kept in the data dir (keys/, mode 0600) until the last job encrypted to them is
 * closed. A job snapshots the keys it was created under (machine_public_key, encryption_key), so
 * after a key rotation the jobs sealed to the old keyset still open and are still signed with the
 * key the escrow checks.
 */
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { sha256Hex } from "@gpu-market/protocol";
import { baseEncode } from "near-api-js";
import { ensureDir, fsyncDir, removeTemporaries, writeAtomic } from "../store/files.ts";
import {
  type MachineKeys,
  machineKeys,
  parseEncryptionSecret,
  parseSigningSecret,
} from "./machine-key-file.ts";

function keyName(signingKey: string, encryptionKey: string): string {
  return `${sha256Hex(new TextEncoder().encode(`${signingKey}\n${encryptionKey}`))}.json`;
}

export class Keyring {
  readonly #dir: string;
  #keys = new Map<string, MachineKeys>();
  #current = new Set<string>();

  /** Loads the keys kept in `dataDir`, then adds `current` (stored if new). */
  constructor(dataDir: string, current: MachineKeys[]) {
    this.#dir = join(dataDir, "keys");
    ensureDir(this.#dir);
    removeTemporaries(this.#dir);
    for (const entry of readdirSync(this.#dir)) {
      if (!entry.endsWith(".json")) continue;
      const path = join(this.#dir, entry);
      const value = JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
      const keys = machineKeys(
        parseSigningSecret(value.signing_secret, `${path}: signing_secret`),
        parseEncryptionSecret(value.encryption_secret, `${path}: encryption_secret`),
        { signingKey: value.signing_key, encryptionKey: value.encryption_key },
        path,
      );
      this.#keys.set(keyName(keys.signingKey, keys.encryptionKey), keys);
    }
    for (const keys of current) {
      const name = keyName(keys.signingKey, keys.encryptionKey);
      this.#current.add(name);
      if (this.#keys.has(name)) continue;
      writeAtomic(
        this.#dir,
        name,
        `${JSON.stringify({
          signing_key: keys.signingKey,
          encryption_key: keys.encryptionKey,
          signing_secret: `ed25519:${baseEncode(keys.signing)}`,
          encryption_secret: `x25519:${Buffer.from(keys.encryption).toString("hex")}`,
        })}\n`,
      );
      this.#keys.set(name, keys);
    }
  }

  /** The keys a job was created under, or undefined when this agent does not hold them. */
  find(signingKey: string, encryptionKey: string): MachineKeys | undefined {
    return this.#keys.get(keyName(signingKey, encryptionKey));
  }

  /** The keys given at start. */
  current(): MachineKeys[] {
    return [...this.#current].flatMap((name) => this.#keys.get(name) ?? []);
  }

  /** How many previous keysets are still kept. */
  get previousCount(): number {
    return this.#keys.size - this.#current.size;
  }

  /**
   * Forgets previous keys no open job needs. `inUse` lists the (signing, encryption) keys of the
   * jobs not yet closed. Returns how many were removed.
   */
  prune(inUse: { signingKey: string; encryptionKey: string }[]): number {
    const needed = new Set(inUse.map((k) => keyName(k.signingKey, k.encryptionKey)));
    let removed = 0;
    for (const name of [...this.#keys.keys()]) {
      if (this.#current.has(name) || needed.has(name)) continue;
      rmSync(join(this.#dir, name), { force: true });
      this.#keys.delete(name);
      removed++;
    }
    if (removed > 0) fsyncDir(this.#dir);
    return removed;
  }
}
