import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KeyPair } from "near-api-js";
import { afterEach, describe, expect, it } from "vitest";
import { keyPath, loadAccountKey, saveAccountKey } from "../src/credentials.ts";
import { loadOrCreateMachineKey } from "../src/machine-key.ts";

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
  it("is generated once with mode 0600 and reused after", () => {
    const path = join(tempDir(), "sub", "machine-key.json");
    const first = loadOrCreateMachineKey(path);
    expect(first.created).toBe(true);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const file = JSON.parse(readFileSync(path, "utf8"));
    expect(file.public_key).toBe(first.publicKey);
    expect(file.private_key).toMatch(/^ed25519:/);
    const again = loadOrCreateMachineKey(path);
    expect(again.created).toBe(false);
    expect(again.publicKey).toBe(first.publicKey);
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
