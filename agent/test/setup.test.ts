/**
 * What the agent checks before it serves: its flags, the machine key files, the keyring of current
 * and previous keys, and the machines the registry lists against the keys and the weights it
 * hashed (a receipt is never signed for weights other than the attested ones).
 */
import { chmodSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateMachineSecrets, keysetSha256, sha256Hex } from "@gpu-market/protocol";
import { ed25519 } from "@noble/curves/ed25519.js";
import { baseEncode } from "near-api-js";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { hashModels } from "../src/backend/weights.ts";
import type { RegistryMachine } from "../src/chain/registry.ts";
import { parseCommand } from "../src/config.ts";
import { Keyring } from "../src/keys/keyring.ts";
import { readMachineKeyFile } from "../src/keys/machine-key-file.ts";
import { planMachines } from "../src/machines.ts";
import { MODEL, machineKeysOf, OTHER_MODEL, PROVIDER, REGISTRY } from "./support/harness.ts";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "agent-setup-"));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const base = [
  "run",
  "--account",
  "alice.test.near",
  "--registry",
  "registry.test.near",
  "--escrow",
  "escrow.test.near",
];

describe("flags", () => {
  it("run: every flag, with defaults", () => {
    const parsed = parseCommand(
      [
        ...base,
        "--machine-key-file",
        "a.json",
        "--machine-key-file",
        "b.json",
        "--model",
        "tiny-llama=/m/tiny.gguf",
        "--backend-url",
        "http://127.0.0.1:8000",
        "--listen",
        "0.0.0.0:9000",
        "--from-height",
        "12",
        "--max-queue",
        "3",
        "--json",
      ],
      {},
    );
    expect(parsed).toMatchObject({
      command: "run",
      config: {
        network: "localnet",
        rpcUrl: "http://127.0.0.1:3030",
        blockSource: "http://127.0.0.1:3030",
        models: [{ name: "tiny-llama", path: "/m/tiny.gguf" }],
        listen: { host: "0.0.0.0", port: 9000 },
        fromHeight: 12,
        maxQueue: 3,
        parallel: 4,
        retainMs: 30 * 86_400_000,
        json: true,
      },
    });
    const testnet = parseCommand(
      [
        "run",
        ...base.slice(1),
        "--network",
        "testnet",
        "--machine-key-file",
        "a",
        "--model",
        "m=x",
        "--backend-url",
        "http://b",
      ],
      {},
    );
    expect(testnet).toMatchObject({
      config: {
        blockSource: "https://testnet.neardata.xyz",
        rpcUrl: "https://rpc.testnet.near.org",
      },
    });
  });

  it("evidence: --evidence-file as given, else the <key file>.evidence register-provider kept", () => {
    const keyA = join(dir, "a.json");
    const keyB = join(dir, "b.json");
    writeFileSync(`${keyA}.evidence`, "quote");
    const flags = ["--model", "m=x", "--backend-url", "http://b"];
    const evidenceOf = (extra: string[]) =>
      (
        parseCommand([...base, ...flags, ...extra], {}) as {
          config: { evidenceFiles: string[] };
        }
      ).config.evidenceFiles;
    // b.json has no evidence beside it: nothing is made up for it.
    expect(evidenceOf(["--machine-key-file", keyA, "--machine-key-file", keyB])).toEqual([
      `${keyA}.evidence`,
    ]);
    expect(evidenceOf(["--machine-key-file", keyB])).toEqual([]);
    expect(
      evidenceOf(["--machine-key-file", keyA, "--evidence-file", join(dir, "other.bin")]),
    ).toEqual([join(dir, "other.bin")]);
  });

  it("errors name the flag", () => {
    const run = (extra: string[]) => () => parseCommand([...base, ...extra], {});
    const ok = ["--machine-key-file", "a", "--model", "m=x", "--backend-url", "http://b"];
    expect(run(["--model", "m=x", "--backend-url", "http://b"])).toThrow(
      "--machine-key-file is required",
    );
    expect(run(["--machine-key-file", "a", "--backend-url", "http://b"])).toThrow(
      "--model <name>=<path> is required",
    );
    expect(run([...ok, "--model", "m=y"])).toThrow("--model: m is given twice");
    expect(run(["--machine-key-file", "a", "--model", "=x", "--backend-url", "http://b"])).toThrow(
      "--model: expected",
    );
    expect(run([...ok, "--listen", "8080"])).toThrow("--listen: expected <host>:<port>");
    expect(run([...ok, "--max-queue", "0"])).toThrow("--max-queue: expected a whole number");
    for (const bad of ["0", "1.5", "30d", "never", "36501"]) {
      expect(run([...ok, "--retain-days", bad])).toThrow(
        `--retain-days: expected a whole number from 1 to 36500, got "${bad}"`,
      );
    }
    const retain = (value: string) =>
      (
        parseCommand([...base, ...ok, "--retain-days", value], {}) as {
          config: { retainMs: unknown };
        }
      ).config.retainMs;
    expect(retain("7")).toBe(7 * 86_400_000);
    expect(retain("forever")).toBeNull();
    expect(run([...ok, "--from-height", "-1"])).toThrow("--from-height");
    expect(
      run(["--machine-key-file", "a", "--model", "m=x", "--backend-url", "localhost:8000"]),
    ).toThrow("--backend-url");
    expect(run([...ok, "--network", "devnet"])).toThrow('--network: "devnet" is not one of');
    expect(() =>
      parseCommand(
        [
          "run",
          "--account",
          "a.near",
          "--machine-key-file",
          "a",
          "--model",
          "m=x",
          "--backend-url",
          "http://b",
        ],
        {
          GPU_MARKET_DEPLOYMENT: join(dir, "none.json"),
        },
      ),
    ).toThrow("which registry?");
    expect(() =>
      parseCommand(
        ["withdraw", "--escrow", "e.near", "--account", "a.near", "--amount", "1.5"],
        {},
      ),
    ).toThrow("--amount");
    expect(() => parseCommand(["bogus"], {})).toThrow('unknown subcommand "bogus"');
  });

  it("reads the contracts from a deployment file", () => {
    const file = join(dir, "deployment.json");
    writeFileSync(
      file,
      JSON.stringify({
        registry: { account_id: "registry.x.near" },
        escrow: { account_id: "escrow.x.near" },
      }),
    );
    const parsed = parseCommand(["withdraw", "--account", "a.near", "--deployment", file], {});
    expect(parsed).toMatchObject({
      config: { escrow: "escrow.x.near", asset: "NEAR", amount: null },
    });
  });
});

function writeKeyFile(path: string, fields: Record<string, unknown>, mode = 0o600): void {
  writeFileSync(path, JSON.stringify(fields));
  chmodSync(path, mode);
}

describe("machine keys", () => {
  const secrets = generateMachineSecrets();
  const keys = machineKeysOf(secrets);
  // near-cli's spelling: base58 of the seed followed by the public key.
  const fields = () => ({
    account_id: "machine",
    public_key: keys.signingKey,
    private_key: `ed25519:${baseEncode(new Uint8Array([...secrets.signing, ...ed25519.getPublicKey(secrets.signing)]))}`,
    encryption_key: keys.encryptionKey,
    encryption_private_key: `x25519:${Buffer.from(secrets.encryption).toString("hex")}`,
  });

  it("reads a key file and checks each public key against its secret and the file's mode", () => {
    const path = join(dir, "machine.json");
    writeKeyFile(path, fields());
    expect(readMachineKeyFile(path)).toMatchObject({
      signingKey: keys.signingKey,
      encryptionKey: keys.encryptionKey,
    });
    writeKeyFile(path, {
      ...fields(),
      encryption_key: machineKeysOf(generateMachineSecrets()).encryptionKey,
    });
    expect(() => readMachineKeyFile(path)).toThrow("is not the encryption secret's");
    writeKeyFile(path, { ...fields(), encryption_private_key: "x25519:00" });
    expect(() => readMachineKeyFile(path)).toThrow('expected "x25519:<64 lowercase hex>"');
    const keyset = {
      machine_id: "4",
      account: "alice.near",
      registry: "registry.near",
      models: [],
      keyset_sha256: "00".repeat(32),
    };
    writeKeyFile(path, { ...fields(), keyset });
    expect(readMachineKeyFile(path).registered).toEqual({
      machine_id: "4",
      account: "alice.near",
      registry: "registry.near",
    });
    writeKeyFile(path, fields(), 0o644);
    expect(() => readMachineKeyFile(path)).toThrow("readable by other users");
  });

  it("keeps previous keys until no open job needs them", () => {
    const old = machineKeysOf(generateMachineSecrets());
    new Keyring(dir, [old]);
    const ring = new Keyring(dir, [keys]);
    expect(ring.previousCount).toBe(1);
    expect(ring.find(old.signingKey, old.encryptionKey)?.encryption).toEqual(old.encryption);
    expect(ring.prune([{ signingKey: old.signingKey, encryptionKey: old.encryptionKey }])).toBe(0);
    expect(ring.prune([])).toBe(1);
    expect(ring.find(old.signingKey, old.encryptionKey)).toBeUndefined();
    expect(readdirSync(join(dir, "keys"))).toHaveLength(1);
    expect(new Keyring(dir, []).find(keys.signingKey, keys.encryptionKey)?.signing).toEqual(
      keys.signing,
    );
  });
});

describe("machines served", () => {
  const keys = machineKeysOf(generateMachineSecrets());
  const models = [MODEL, OTHER_MODEL].sort((a, b) => (a.name < b.name ? -1 : 1));
  const machine: RegistryMachine = {
    id: "3",
    provider: PROVIDER,
    machine_public_key: keys.signingKey,
    encryption_key: keys.encryptionKey,
    keyset_sha256: keysetSha256({
      account: PROVIDER,
      registry: REGISTRY,
      signing_key: keys.signingKey,
      encryption_key: keys.encryptionKey,
      models,
    }),
    models,
    status: "active",
    evidence: { hash: sha256Hex(new Uint8Array([1, 2, 3])), size: 3 },
  };
  const plan = (over: Partial<Parameters<typeof planMachines>[0]>) =>
    planMachines({
      account: PROVIDER,
      registry: REGISTRY,
      keys: [keys],
      registered: [machine],
      served: [MODEL],
      evidence: [],
      ...over,
    });

  it("serves the machines of its keys, the models it loaded, and matches evidence by hash", () => {
    const result = plan({ evidence: [{ path: "e.bin", bytes: new Uint8Array([1, 2, 3]) }] });
    expect(result.machines).toMatchObject([{ id: "3", models: [MODEL], missing: ["other"] }]);
    expect(result.machines[0]?.evidence).toEqual(new Uint8Array([1, 2, 3]));
    expect(result.warnings.join("\n")).toContain("no --model for other");
  });

  it("refuses weights other than the attested ones, a keyset that is not these keys', and no machine at all", () => {
    expect(() => plan({ served: [{ name: MODEL.name, weights_sha256: "ee".repeat(32) }] })).toThrow(
      `--model tiny-llama: the weights file hashes to ${"ee".repeat(32)}`,
    );
    expect(() => plan({ registered: [{ ...machine, keyset_sha256: "00".repeat(32) }] })).toThrow(
      "is not the keyset of these keys",
    );
    expect(() => plan({ registered: [] })).toThrow("none of the machine key files");
    const elsewhere = {
      ...keys,
      registered: { machine_id: "3", account: PROVIDER, registry: "registry.other.near" },
    };
    expect(() => plan({ keys: [elsewhere] })).toThrow(
      `was registered by ${PROVIDER} in registry.other.near`,
    );
  });

  it("hashes weights files as sha256 of their bytes", async () => {
    const path = join(dir, "w.gguf");
    writeFileSync(path, "GGUF weights");
    expect(await hashModels([{ name: "m", path }])).toEqual([
      { name: "m", weights_sha256: sha256Hex(new TextEncoder().encode("GGUF weights")) },
    ]);
    await expect(hashModels([{ name: "m", path: join(dir, "missing") }])).rejects.toThrow(
      "--model m=",
    );
  });
});
