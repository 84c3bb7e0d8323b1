/** The hardware a provider claims for a machine; verifiers check it against the GPU evidence. */
import { fail } from "../../common/src/errors.ts";
import type { GpuSpec, Hardware, TeeType } from "../../common/src/registry-types.ts";
import {
  requireArray,
  requireEnum,
  requireInt,
  requireObject,
  requireOnlyKeys,
  requireText,
} from "../../common/src/validate.ts";
import { LIMITS } from "./state.ts";

const GPU_FIELDS = ["model", "count", "vram_mib", "driver", "vbios", "cc_mode"] as const;
const MAX_INT = 2 ** 31 - 1;

function parseGpu(value: unknown, field: string): GpuSpec {
  const gpu = requireObject(value, field);
  requireOnlyKeys(gpu, field, GPU_FIELDS);
  return {
    model: requireText(gpu.model, `${field}.model`, 1, 64),
    count: requireInt(gpu.count, `${field}.count`, 1, 64),
    vram_mib: requireInt(gpu.vram_mib, `${field}.vram_mib`, 1, MAX_INT),
    driver: requireText(gpu.driver, `${field}.driver`, 1, 64),
    vbios: requireText(gpu.vbios, `${field}.vbios`, 1, 64),
    cc_mode: requireEnum(gpu.cc_mode, `${field}.cc_mode`, ["on", "off", "devtools"]),
  };
}

export function parseHardware(value: unknown, field: string): Hardware {
  const hardware = requireObject(value, field);
  requireOnlyKeys(hardware, field, ["gpus", "cpu_cores", "ram_mib"]);
  const gpus = requireArray(hardware.gpus, `${field}.gpus`, 1, LIMITS.maxGpus);
  return {
    gpus: gpus.map((gpu, i) => parseGpu(gpu, `${field}.gpus[${i}]`)),
    cpu_cores: requireInt(hardware.cpu_cores, `${field}.cpu_cores`, 1, 4096),
    ram_mib: requireInt(hardware.ram_mib, `${field}.ram_mib`, 1, MAX_INT),
  };
}

/**
 * A TEE machine's GPUs must not run in CC "devtools" mode: it lets debugging tools read GPU memory,
 * so the TEE would no longer keep prompts and answers confidential.
 */
export function refuseDevtools(teeType: TeeType, hardware: Hardware, field: string): void {
  if (teeType === "none-dev") {
    return;
  }
  hardware.gpus.forEach((gpu, i) => {
    if (gpu.cc_mode === "devtools") {
      fail(
        `${field}.gpus[${i}].cc_mode: "devtools" is refused for tee_type ${teeType} ` +
          "(debug tools can read GPU memory); run the GPUs with CC on",
      );
    }
  });
}
