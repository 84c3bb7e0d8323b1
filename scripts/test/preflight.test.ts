import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { requireChecks } from "../src/commands/preflight.ts";
import { type LocalCheckOptions, localChecks } from "../src/commands/register-provider.ts";
import { memoryIo } from "../src/io.ts";
import { loadOrCreateMachineKey } from "../src/machine-key.ts";
import { fixtureRunner } from "./support/fixture-runner.ts";

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
    expect(() => requireChecks(found.checks)).not.toThrow();
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
