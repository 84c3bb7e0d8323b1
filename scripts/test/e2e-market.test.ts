/**
 * End to end on an in-process localnet: deploy the market (governance owning registry and escrow,
 * dev mode enabled by a governance vote), register a provider with a none-dev machine whose GPUs
 * come from the recorded H100 nvidia-smi output, then run a job through the job commands and a
 * proposal through the dao commands.
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deployMarket } from "../src/commands/deploy.ts";
import { registerProvider } from "../src/commands/register-provider.ts";
import { memoryIo } from "../src/io.ts";
import { fixtureRunner } from "./support/fixture-runner.ts";
import { createAccount, startTestNet, type TestNet } from "./support/localnet.ts";

const ONE_NEAR = 10n ** 24n;
let t: TestNet;
let registry: string;
let escrow: string;
let governance: string;
let provider: string;

beforeAll(async () => {
  t = await startTestNet();
});
afterAll(async () => {
  await t?.stop();
});

describe("gpu-market on localnet", () => {
  it("deploys the market with governance owning registry and escrow", async () => {
    const io = memoryIo();
    const result = await deployMarket(
      {
        chain: t.chain,
        creds: t.creds,
        master: t.master,
        build: false,
        devMode: true,
        keepKeys: false,
        deploymentPath: join(t.dir, "deployment.json"),
      },
      io,
    );
    registry = result.registry.account_id;
    escrow = result.escrow.account_id;
    governance = result.governance.account_id;
    expect(registry).toBe(`registry.${t.master}`);
    const info = await t.chain.view<{ owner: string; dev_mode: boolean }>(
      registry,
      "registry_info",
    );
    expect(info).toMatchObject({ owner: governance, dev_mode: true });
    const escrowInfo = await t.chain.view<{ owner: string; registry: string }>(
      escrow,
      "escrow_info",
    );
    expect(escrowInfo).toMatchObject({ owner: governance, registry });
    const keys = await t.chain.provider.viewAccessKeyList({
      accountId: registry,
      finalityQuery: { finality: "final" },
    });
    expect(keys.keys).toHaveLength(0);
    expect(io.lines.join("\n")).toContain(result.registry.code_hash);
  });

  it("registers a provider and a none-dev machine detected from nvidia-smi", async () => {
    provider = await createAccount(t, "alice", 20n);
    const io = memoryIo();
    const common = {
      chain: t.chain,
      registry,
      provider,
      name: "Alice GPU",
      endpoint: "https://alice.example/v1",
      region: "eu-west-1",
      pricePerUnit: 1000n,
      tee: "none-dev" as const,
      machineKeyPath: join(t.dir, "machine-key.json"),
      waitSeconds: 10,
      pollMs: 200,
      runner: fixtureRunner("h100-80gb-cc-off"),
      host: { cpuCores: 16, ramMib: 131072 },
      tsmRoot: join(t.dir, "no-tsm"),
    };
    const dry = await registerProvider({ ...common, dryRun: true }, io);
    expect(dry.machine).toBeNull();
    expect(await t.chain.view(registry, "provider", { account_id: provider })).toBeNull();

    const result = await registerProvider({ ...common, dryRun: false }, io);
    expect(result.provider.registered_now).toBe(true);
    expect(result.machine).toMatchObject({
      id: "0",
      eligible: true,
      evidence_source: "dev-report",
    });
    const machine = await t.chain.view<{ hardware: unknown; machine_public_key: string }>(
      registry,
      "machine",
      { machine_id: "0" },
    );
    expect(machine.machine_public_key).toBe(result.machine_public_key);
    expect(machine.hardware).toEqual({
      gpus: [
        {
          model: "NVIDIA H100 80GB HBM3",
          count: 1,
          vram_mib: 81559,
          driver: "580.159.04",
          vbios: "96.00.DA.00.0C",
          cc_mode: "off",
        },
      ],
      cpu_cores: 16,
      ram_mib: 131072,
    });
  });

  it("stops at preflight with every failure and its fix", async () => {
    const io = memoryIo();
    await expect(
      registerProvider(
        {
          chain: t.chain,
          registry,
          provider: `nobody.${t.master}`,
          pricePerUnit: 1n,
          tee: "none-dev",
          machineKeyPath: join(t.dir, "other-key.json"),
          dryRun: false,
          waitSeconds: 0,
          runner: fixtureRunner("driver-missing"),
          host: { cpuCores: 1, ramMib: 1 },
          tsmRoot: join(t.dir, "no-tsm"),
        },
        io,
      ),
    ).rejects.toMatchObject({
      message: expect.stringMatching(/NVIDIA driver.*provider: .*not registered.*credentials/),
      hint: expect.stringContaining("modprobe nvidia"),
    });
  });
});

export { escrow, governance, ONE_NEAR, provider };
