/**
 * The measurements a verdict carries, in the registry's shape (contracts/registry measurements):
 * MRTD and RTMR0-3 as lowercase hex, GPU driver and vBIOS versions as text. The registry
 * compares their id, sha256 of the canonical JSON, with its allowlist.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { toHex } from "./bytes.ts";

export interface Measurements {
  mrtd: string;
  rtmr0: string;
  rtmr1: string;
  rtmr2: string;
  rtmr3: string;
  gpu_driver: string;
  gpu_vbios: string;
}

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

export function measurementId(m: Measurements): string {
  return toHex(sha256(new TextEncoder().encode(canonicalMeasurements(m))));
}
