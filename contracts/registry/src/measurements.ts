/**
 * Measurements of the code a TEE runs, and their id: the sha256 (hex) of the canonical JSON,
 * the seven fields in this order with no whitespace:
 * {"gpu_driver":..,"gpu_vbios":..,"mrtd":..,"rtmr0":..,"rtmr1":..,"rtmr2":..,"rtmr3":..}
 */
import { near } from "near-sdk-js";
import { asciiBytes, toHex } from "../../common/src/encoding.ts";
import { canonicalMeasurements } from "../../common/src/measurements-format.ts";
import type { Measurements } from "../../common/src/registry-types.ts";
import {
  requireHex,
  requireObject,
  requireOnlyKeys,
  requireText,
} from "../../common/src/validate.ts";

const FIELDS = ["gpu_driver", "gpu_vbios", "mrtd", "rtmr0", "rtmr1", "rtmr2", "rtmr3"] as const;

/** Register values are lowercase hex of up to 48 bytes (SHA-384 size); GPU versions are text. */
export function parseMeasurements(value: unknown, field: string): Measurements {
  const m = requireObject(value, field);
  requireOnlyKeys(m, field, FIELDS);
  return {
    gpu_driver: requireText(m.gpu_driver, `${field}.gpu_driver`, 0, 64),
    gpu_vbios: requireText(m.gpu_vbios, `${field}.gpu_vbios`, 0, 64),
    mrtd: requireHex(m.mrtd, `${field}.mrtd`, 0, 48),
    rtmr0: requireHex(m.rtmr0, `${field}.rtmr0`, 0, 48),
    rtmr1: requireHex(m.rtmr1, `${field}.rtmr1`, 0, 48),
    rtmr2: requireHex(m.rtmr2, `${field}.rtmr2`, 0, 48),
    rtmr3: requireHex(m.rtmr3, `${field}.rtmr3`, 0, 48),
  };
}

export function measurementId(m: Measurements): string {
  return toHex(near.sha256(asciiBytes(canonicalMeasurements(m))));
}
