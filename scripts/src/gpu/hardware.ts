/**
 * The registry's hardware record from detected GPUs and host: identical GPUs (same model, VRAM,
 * driver, vBIOS) are grouped with a count, as `add_machine` takes them.
 */
import type { CcMode, GpuSpec, Hardware } from "@gpu-market/common/src/registry-types.ts";
import type { HostInfo } from "./host.ts";
import type { Gpu } from "./nvidia-smi.ts";

export type { Hardware };

export function hardwareRecord(gpus: Gpu[], ccMode: CcMode, host: HostInfo): Hardware {
  const groups: GpuSpec[] = [];
  for (const gpu of gpus) {
    const same = groups.find(
      (g) =>
        g.model === gpu.name &&
        g.vram_mib === gpu.vramMib &&
        g.driver === gpu.driver &&
        g.vbios === gpu.vbios,
    );
    if (same !== undefined) {
      same.count += 1;
    } else {
      groups.push({
        model: gpu.name,
        count: 1,
        vram_mib: gpu.vramMib,
        driver: gpu.driver,
        vbios: gpu.vbios,
        cc_mode: ccMode,
      });
    }
  }
  return { gpus: groups, cpu_cores: host.cpuCores, ram_mib: host.ramMib };
}
