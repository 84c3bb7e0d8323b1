import { createHash } from "node:crypto";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { requireChecks } from "../src/commands/preflight.ts";
import { type LocalCheckOptions, localChecks } from "../src/commands/register-provider.ts";
import { CC_ARGS } from "../src/gpu/nvidia-smi.ts";
import type { CommandRunner } from "../src/gpu/runner.ts";
import { memoryIo } from "../src/io.ts";
import { loadOrCreateMachineKey } from "../src/machine-key.ts";
import { fixtureRunner } from "./support/fixture-runner.ts";

const WEIGHTS_HASH = "ab".repeat(32);

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "preflight-"));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function options(overrides: Partial<LocalCheckOptions> = {}): LocalCheckOptions {
  const dir = tempDir();
  return {
    network: "testnet",
    tee: "tdx",
    dryRun: false,
    machineKeyPath: join(dir, "machine-key.json"),
    models: [{ name: "llama-3.1-8b-instruct", weights_sha256: WEIGHTS_HASH }],
    runner: fixtureRunner("multi-gpu-8x-h100-cc-on"),
    host: { cpuCores: 224, ramMib: 2_000_000 },
    tsmRoot: join(dir, "tsm", "report"),
    ...overrides,
  };
}

function byName(checks: { name: string; ok: boolean; detail: string; fix?: string }[]) {
  return Object.fromEntries(checks.map((c) => [c.name, c]));
}

describe("register-provider preflight (local checks)", () => {
  it("passes on a CC-mode TDX host with configfs-tsm", async () => {
    const o = options();
    mkdirSync(o.tsmRoot, { recursive: true });
    const found = await localChecks(o, memoryIo());
    expect(found.checks.every((c) => c.ok)).toBe(true);
    expect(found.hardware?.gpus).toEqual([expect.objectContaining({ count: 8, cc_mode: "on" })]);
    expect(found.machineKey?.created).toBe(true);
    expect(found.machineKey?.encryptionKey).toMatch(/^x25519:[0-9a-f]{64}$/);
    expect(found.models).toEqual([{ name: "llama-3.1-8b-instruct", weights_sha256: WEIGHTS_HASH }]);
    expect(() => requireChecks(found.checks)).not.toThrow();
  });

  it("hashes each weights file, takes given hashes, and sorts the models by name", async () => {
    const file = join(tempDir(), "model.gguf");
    writeFileSync(file, Buffer.alloc(5 * 1024 * 1024, 7));
    const found = await localChecks(
      options({
        models: [
          { name: "tiny", path: file },
          { name: "big", weights_sha256: WEIGHTS_HASH },
        ],
      }),
      memoryIo(),
    );
    expect(found.models).toEqual([
      { name: "big", weights_sha256: WEIGHTS_HASH },
      {
        name: "tiny",
        weights_sha256: createHash("sha256").update(readFileSync(file)).digest("hex"),
      },
    ]);
  });

  it.each([
    [[], "no models given: a machine lists the models it serves"],
    [
      [
        { name: "m", weights_sha256: WEIGHTS_HASH },
        { name: "m", weights_sha256: WEIGHTS_HASH },
      ],
      "--model m is given twice",
    ],
    [
      [{ name: "m", path: "/nonexistent/weights.gguf" }],
      "--model m=/nonexistent/weights.gguf: ENOENT",
    ],
    [[{ name: "m", path: "/" }], "--model m=/: not a file"],
    [
      [{ name: "-m", weights_sha256: WEIGHTS_HASH }],
      '--model: models[0].name: "-m" is not a model name',
    ],
  ])("fails the models check, naming the problem: %j", async (models, message) => {
    const found = await localChecks(options({ models }), memoryIo());
    expect(found.models).toBeNull();
    expect(byName(found.checks).models).toMatchObject({
      ok: false,
      detail: expect.stringContaining(message),
      fix: expect.stringContaining("--model NAME=PATH"),
    });
  });

  it("refuses GPUs in CC devtools mode for a TDX machine", async () => {
    const gpus = fixtureRunner("multi-gpu-8x-h100-cc-on");
    const devtools: CommandRunner = async (command, args) =>
      args.join(" ") === CC_ARGS.join(" ")
        ? { code: 0, stdout: "CC status: DEVTOOLS\n", stderr: "", notFound: false }
        : gpus(command, args);
    const o = options({ runner: devtools });
    mkdirSync(o.tsmRoot, { recursive: true });
    const found = await localChecks(o, memoryIo());
    expect(byName(found.checks)["GPU CC mode"]).toMatchObject({
      ok: false,
      detail: expect.stringContaining("devtools"),
      fix: expect.stringContaining("--set-cc-mode=on"),
    });
  });

  it("names the missing TEE and the missing driver, each with its fix", async () => {
    const found = await localChecks(
      options({ runner: fixtureRunner("driver-missing") }),
      memoryIo(),
    );
    const checks = byName(found.checks);
    expect(checks["NVIDIA driver"]).toMatchObject({
      ok: false,
      fix: expect.stringContaining("modprobe"),
    });
    expect(checks.TEE).toMatchObject({ ok: false, fix: expect.stringContaining("--evidence") });
    expect(found.hardware).toBeNull();
    expect(() => requireChecks(found.checks)).toThrow(/preflight failed: NVIDIA driver: .*TEE: /);
  });

  it("reports a machine without GPUs", async () => {
    const found = await localChecks(options({ runner: fixtureRunner("no-gpu") }), memoryIo());
    expect(byName(found.checks).GPUs).toMatchObject({
      ok: false,
      fix: expect.stringContaining("lspci"),
    });
  });

  it("warns when the GPUs are not in confidential-computing mode", async () => {
    const o = options({ runner: fixtureRunner("h100-80gb-cc-off") });
    mkdirSync(o.tsmRoot, { recursive: true });
    const io = memoryIo();
    await localChecks(o, io);
    expect(io.progressLines.join("\n")).toMatch(/confidential computing is off/);
  });

  it("allows none-dev on localnet only, and --hardware only for none-dev", async () => {
    const testnet = await localChecks(options({ tee: "none-dev" }), memoryIo());
    expect(byName(testnet.checks).TEE).toMatchObject({ ok: false });
    const localnet = await localChecks(
      options({ tee: "none-dev", network: "localnet" }),
      memoryIo(),
    );
    expect(byName(localnet.checks).TEE).toMatchObject({ ok: true });

    const file = join(tempDir(), "hardware.json");
    writeFileSync(file, JSON.stringify({ gpus: [], cpu_cores: 4, ram_mib: 8192 }));
    await expect(localChecks(options({ hardwarePath: file }), memoryIo())).rejects.toThrow(
      /--hardware is only for none-dev/,
    );
    const given = await localChecks(
      options({ tee: "none-dev", network: "localnet", hardwarePath: file }),
      memoryIo(),
    );
    expect(given.hardware).toEqual({ gpus: [], cpu_cores: 4, ram_mib: 8192 });
  });

  it("does not write the machine key in a dry run", async () => {
    const o = options({ dryRun: true });
    const found = await localChecks(o, memoryIo());
    expect(found.machineKey?.created).toBe(true);
    expect(existsSync(o.machineKeyPath)).toBe(false);
    expect(byName(found.checks)["machine key"]?.detail).toContain("would create");
  });

  it("fails the machine-key check for a key file others can read", async () => {
    const o = options();
    mkdirSync(o.tsmRoot, { recursive: true });
    loadOrCreateMachineKey(o.machineKeyPath);
    chmodSync(o.machineKeyPath, 0o640);
    const found = await localChecks(o, memoryIo());
    expect(byName(found.checks)["machine key"]).toMatchObject({
      ok: false,
      fix: `chmod 600 ${o.machineKeyPath}`,
    });
  });
});
