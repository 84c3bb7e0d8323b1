import { createHash } from "node:crypto";
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { x25519 } from "@noble/curves/ed25519.js";
import { KeyPair } from "near-api-js";
import { afterEach, describe, expect, it } from "vitest";
import { keyPath, loadAccountKey, saveAccountKey } from "../src/credentials.ts";
import {
  loadOrCreateMachineKey,
  machineKeyProof,
  recordRegisteredKeyset,
} from "../src/machine-key.ts";

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "keys-"));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe("machine key", () => {
  it("proves possession: an ed25519 signature over sha256 of the canonical machine-key document", () => {
    const key = loadOrCreateMachineKey(join(tempDir(), "machine-key.json"));
    const binding = {
      registry: "registry.testnet",
      account: "alice.testnet",
      nonce: "ab".repeat(32),
    };
    const signature = machineKeyProof(key, binding);
    expect(signature).toMatch(/^[0-9a-f]{128}$/);
    // The registry's document, spelled out: keys sorted, no whitespace.
    const document = `{"account":"alice.testnet","nonce":"${"ab".repeat(32)}","registry":"registry.testnet","signing_key":"${key.publicKey}","version":"gpumarket/v1/machine-key"}`;
    const digest = createHash("sha256").update(document).digest();
    expect(key.keyPair.verify(digest, Buffer.from(signature, "hex"))).toBe(true);
    const other = machineKeyProof(key, { ...binding, account: "bob.testnet" });
    expect(key.keyPair.verify(digest, Buffer.from(other, "hex"))).toBe(false);
  });

  it("is generated once with mode 0600 and reused after", () => {
    const path = join(tempDir(), "sub", "machine-key.json");
    const first = loadOrCreateMachineKey(path);
    expect(first.created).toBe(true);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const file = JSON.parse(readFileSync(path, "utf8"));
    expect(file.public_key).toBe(first.publicKey);
    expect(file.private_key).toMatch(/^ed25519:/);
    // The X25519 pair: the public key is the private scalar's.
    expect(file.encryption_key).toBe(first.encryptionKey);
    const secret = Buffer.from(file.encryption_private_key.slice("x25519:".length), "hex");
    expect(file.encryption_key).toBe(
      `x25519:${Buffer.from(x25519.getPublicKey(secret)).toString("hex")}`,
    );
    const again = loadOrCreateMachineKey(path);
    expect(again.created).toBe(false);
    expect(again.publicKey).toBe(first.publicKey);
    expect(again.encryptionKey).toBe(first.encryptionKey);
  });

  it("records the registered keyset in the file, keeping both key pairs and mode 0600", () => {
    const path = join(tempDir(), "machine-key.json");
    loadOrCreateMachineKey(path);
    const before = JSON.parse(readFileSync(path, "utf8"));
    const keyset = {
      machine_id: "7",
      account: "alice.testnet",
      registry: "registry.testnet",
      models: [{ name: "tiny", weights_sha256: "ab".repeat(32) }],
      keyset_sha256: "cd".repeat(32),
    };
    recordRegisteredKeyset(path, keyset);
    expect(JSON.parse(readFileSync(path, "utf8"))).toEqual({ ...before, keyset });
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(loadOrCreateMachineKey(path).created).toBe(false);
  });

  it("refuses a key file without an encryption key, or whose encryption key is not its own", () => {
    const path = join(tempDir(), "machine-key.json");
    const pair = KeyPair.fromRandom("ed25519");
    const signing = { public_key: pair.getPublicKey().toString(), private_key: pair.toString() };
    writeFileSync(path, JSON.stringify(signing), { mode: 0o600 });
    expect(() => loadOrCreateMachineKey(path)).toThrow(
      /holds no X25519 encryption key \(written before keysets\)/,
    );
    const other = `x25519:${Buffer.from(x25519.getPublicKey(x25519.utils.randomSecretKey())).toString("hex")}`;
    const secret = `x25519:${Buffer.from(x25519.utils.randomSecretKey()).toString("hex")}`;
    writeFileSync(
      path,
      JSON.stringify({ ...signing, encryption_key: other, encryption_private_key: secret }),
      { mode: 0o600 },
    );
    expect(() => loadOrCreateMachineKey(path)).toThrow(
      /encryption_key .* does not match encryption_private_key/,
    );
  });

  it("refuses a key file others can read", () => {
    const path = join(tempDir(), "machine-key.json");
    loadOrCreateMachineKey(path);
    chmodSync(path, 0o644);
    expect(() => loadOrCreateMachineKey(path)).toThrow(/readable by other users \(mode 0644\)/);
  });

  it("refuses a file whose public key is not the private key's", () => {
    const path = join(tempDir(), "machine-key.json");
    const a = KeyPair.fromRandom("ed25519");
    const b = KeyPair.fromRandom("ed25519");
    writeFileSync(
      path,
      JSON.stringify({ public_key: b.getPublicKey().toString(), private_key: a.toString() }),
      { mode: 0o600 },
    );
    expect(() => loadOrCreateMachineKey(path)).toThrow(/does not match private_key/);
  });
});

describe("account credentials", () => {
  it("reads the near-cli keystore layout, and the environment for one account", () => {
    const dir = tempDir();
    const pair = KeyPair.fromRandom("ed25519");
    const path = saveAccountKey({ dir, env: {} }, "testnet", "alice.testnet", pair);
    expect(path).toBe(keyPath(dir, "testnet", "alice.testnet"));
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(loadAccountKey({ dir, env: {} }, "testnet", "alice.testnet")).toBe(pair.toString());

    const other = KeyPair.fromRandom("ed25519").toString();
    const env = { NEAR_ACCOUNT_ID: "alice.testnet", NEAR_PRIVATE_KEY: other };
    expect(loadAccountKey({ dir, env }, "testnet", "alice.testnet")).toBe(other);
  });

  it("names the file and the fix when a key is missing or wrong", () => {
    const dir = tempDir();
    expect(() => loadAccountKey({ dir, env: {} }, "testnet", "bob.testnet")).toThrow(
      /no key for bob.testnet on testnet/,
    );
    const pair = KeyPair.fromRandom("ed25519");
    saveAccountKey({ dir, env: {} }, "testnet", "carol.testnet", pair);
    const path = keyPath(dir, "testnet", "carol.testnet");
    const moved = keyPath(dir, "testnet", "dave.testnet");
    writeFileSync(moved, readFileSync(path), { mode: 0o600 });
    expect(() => loadAccountKey({ dir, env: {} }, "testnet", "dave.testnet")).toThrow(
      /holds the key of carol.testnet, not dave.testnet/,
    );
    expect(() => saveAccountKey({ dir, env: {} }, "testnet", "carol.testnet", pair)).toThrow(
      /refusing to overwrite/,
    );
  });
});
