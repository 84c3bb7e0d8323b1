/**
 * The canonical JSON of a set of measurements, whose sha256 is their id in the registry's
 * allowlist: the seven fields in this order, no whitespace. Host-independent: the registry hashes
 * it with near.sha256, the verifier in Node.
 */
import type { Measurements } from "./registry-types.ts";

export function canonicalMeasurements(m: Measurements): string {
  return JSON.stringify({
    gpu_driver: m.gpu_driver,
    gpu_vbios: m.gpu_vbios,
    mrtd: m.mrtd,
    rtmr0: m.rtmr0,
    rtmr1: m.rtmr1,
    rtmr2: m.rtmr2,
    rtmr3: m.rtmr3,
  });
}
