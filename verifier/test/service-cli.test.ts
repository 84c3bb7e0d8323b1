import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, onTestFinished, test, vi } from "vitest";
import { main } from "../src/cli/verifier.ts";
import { loadPrivateKey } from "../src/service/credentials.ts";

const KEY =
  "ed25519:3D4YudUahN1nawWogh8pAKSj92sUNMdbZGjn7kERKzYoTy8tnFQuwoGUC51DowKqorvkr2pytJSnwuSbsNVfqygr";

describe("verifier account key", () => {
  test("NEAR_PRIVATE_KEY wins, and must look like a key", () => {
    expect(loadPrivateKey("testnet", "v.testnet", { NEAR_PRIVATE_KEY: KEY }, "/nonexistent")).toBe(
      KEY,
    );
    expect(() => loadPrivateKey("testnet", "v.testnet", { NEAR_PRIVATE_KEY: "secret" })).toThrow(
      "NEAR_PRIVATE_KEY: expected ed25519:<base58>",
    );
  });

  test("near-cli keystore file: read, and refused when it holds another account's key", () => {
    const dir = mkdtempSync(join(tmpdir(), "creds-"));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    mkdirSync(join(dir, "testnet"));
    writeFileSync(
      join(dir, "testnet", "v.testnet.json"),
      JSON.stringify({ account_id: "v.testnet", public_key: "ed25519:x", private_key: KEY }),
    );
    expect(loadPrivateKey("testnet", "v.testnet", {}, dir)).toBe(KEY);
    writeFileSync(
      join(dir, "testnet", "w.testnet.json"),
      JSON.stringify({ account_id: "v.testnet", private_key: KEY }),
    );
    expect(() => loadPrivateKey("testnet", "w.testnet", {}, dir)).toThrow(
      /holds the key of v.testnet, not w.testnet/,
    );
    expect(() => loadPrivateKey("testnet", "x.testnet", {}, dir)).toThrow(
      /no key for x.testnet: set NEAR_PRIVATE_KEY or create/,
    );
  });
});

describe("verifier run CLI", () => {
  test("names every missing option and exits 2", async () => {
    const stderr = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    try {
      expect(await main(["run", "--network", "localnet"])).toBe(2);
      expect(String(stderr.mock.calls[0]?.[0])).toMatch(
        /^missing --registry, --account, --root-ca, --pccs or --collateral/,
      );
      expect(await main(["serve"])).toBe(2);
      expect(await main(["run", "--network", "moonnet", "--registry", "r", "--account", "a"])).toBe(
        2,
      );
      expect(String(stderr.mock.calls.at(-1)?.[0])).toMatch(
        /--network \(localnet\|testnet\|mainnet\) or --rpc/,
      );
    } finally {
      stderr.mockRestore();
    }
  });
});
