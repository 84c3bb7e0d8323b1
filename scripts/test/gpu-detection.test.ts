import { describe, expect, it } from "vitest";
import { hardwareRecord } from "../src/gpu/hardware.ts";
import { detectGpus, parseCcStatus, parseGpuCsv } from "../src/gpu/nvidia-smi.ts";
import type { CommandRunner } from "../src/gpu/runner.ts";
import { fixtureRunner, missingCommand } from "./support/fixture-runner.ts";

const HOST = { cpuCores: 16, ramMib: 131072 };

describe("GPU detection from nvidia-smi", () => {
  it("reads the recorded H100 (CC off)", async () => {
    const found = await detectGpus(fixtureRunner("h100-80gb-cc-off"));
    expect(found).toEqual({
      status: "ok",
      ccMode: "off",
      ccNote: null,
      gpus: [
        {
          index: 0,
          name: "NVIDIA H100 80GB HBM3",
          uuid: "GPU-569d4492-47da-8cfb-b425-ec3c504354c7",
          vramMib: 81559,
          driver: "580.159.04",
          vbios: "96.00.DA.00.0C",
          pciBusId: "00000000:00:06.0",
        },
      ],
    });
  });

  it.each([
    ["a100-80gb", "NVIDIA A100-SXM4-80GB", 81920, "550.90.07"],
    ["l4", "NVIDIA L4", 23034, "535.183.01"],
  ])("reads %s", async (fixture, name, vram, driver) => {
    const found = await detectGpus(fixtureRunner(fixture));
    if (found.status !== "ok") throw new Error(found.status);
    expect(found.gpus).toHaveLength(1);
    expect(found.gpus[0]).toMatchObject({ name, vramMib: vram, driver });
    expect(found.ccMode).toBe("off");
  });

  it("groups eight identical H100s in CC mode into one hardware entry", async () => {
    const found = await detectGpus(fixtureRunner("multi-gpu-8x-h100-cc-on"));
    if (found.status !== "ok") throw new Error(found.status);
    expect(found.gpus.map((g) => g.pciBusId)).toHaveLength(8);
    expect(new Set(found.gpus.map((g) => g.uuid)).size).toBe(8);
    expect(hardwareRecord(found.gpus, found.ccMode, HOST)).toEqual({
      gpus: [
        {
          model: "NVIDIA H100 80GB HBM3",
          count: 8,
          vram_mib: 81559,
          driver: "580.159.04",
          vbios: "96.00.DA.00.0C",
          cc_mode: "on",
        },
      ],
      cpu_cores: 16,
      ram_mib: 131072,
    });
  });

  it("keeps different GPUs apart", () => {
    const csv = [
      "name, uuid, memory.total [MiB], driver_version, vbios_version, pci.bus_id",
      "NVIDIA L4, GPU-a, 23034 MiB, 535.183.01, 95.04.29.00.01, 00000000:00:03.0",
      "NVIDIA A100-SXM4-80GB, GPU-b, 81920 MiB, 535.183.01, 92.00.45.00.03, 00000000:00:04.0",
      "NVIDIA L4, GPU-c, 23034 MiB, 535.183.01, 95.04.29.00.01, 00000000:00:05.0",
    ].join("\n");
    const record = hardwareRecord(parseGpuCsv(csv), "off", HOST);
    expect(record.gpus.map((g) => [g.model, g.count])).toEqual([
      ["NVIDIA L4", 2],
      ["NVIDIA A100-SXM4-80GB", 1],
    ]);
  });

  it("tells 'no GPU' (exit 6) apart from a missing driver", async () => {
    const none = await detectGpus(fixtureRunner("no-gpu"));
    expect(none.status).toBe("no-gpu");
    const broken = await detectGpus(fixtureRunner("driver-missing"));
    expect(broken.status).toBe("driver-missing");
    if (broken.status === "driver-missing") {
      expect(broken.message).toContain("couldn't communicate with the NVIDIA driver");
      expect(broken.fix).toContain("modprobe nvidia");
    }
    const absent = await detectGpus(missingCommand);
    expect(absent).toMatchObject({ status: "driver-missing" });
    if (absent.status === "driver-missing") expect(absent.message).toContain("not found");
  });

  it("takes CC as off, with a note, when conf-compute is not supported", async () => {
    const base = fixtureRunner("l4");
    const runner: CommandRunner = async (command, args) =>
      args[0] === "conf-compute"
        ? { code: 2, stdout: "", stderr: "Invalid combination", notFound: false }
        : base(command, args);
    const found = await detectGpus(runner);
    expect(found).toMatchObject({ status: "ok", ccMode: "off" });
    if (found.status === "ok") expect(found.ccNote).toContain("exit 2");
  });

  it("parses CC status lines and rejects malformed CSV", () => {
    expect(parseCcStatus("CC status: ON\n")).toBe("on");
    expect(parseCcStatus("CC status: DEVTOOLS")).toBe("devtools");
    expect(parseCcStatus("\nConfidential Compute GPUs Ready state: not-ready\n")).toBeNull();
    expect(() => parseGpuCsv("name, uuid\nA, B")).toThrow(/no "memory.total" column/);
    expect(() =>
      parseGpuCsv(
        "name, uuid, memory.total [MiB], driver_version, vbios_version, pci.bus_id\nX, GPU-1, lots, 1, 2, 3",
      ),
    ).toThrow(/memory.total "lots"/);
  });
});
