/**
 * The measurements a verdict carries, in the registry's shape (contracts/registry measurements):
 * MRTD and RTMR0-3 as lowercase hex, GPU driver and vBIOS versions as text. The registry
 * compares their id, sha256 of the canonical JSON, with its allowlist.
 */

import { canonicalMeasurements } from "@gpu-market/common/src/measurements-format.ts";
import type { Measurements } from "@gpu-market/common/src/registry-types.ts";
import { sha256 } from "@noble/hashes/sha2.js";
import { toHex } from "./bytes.ts";

export type { Measurements };
export { canonicalMeasurements };

export function measurementId(m: Measurements): string {
  return toHex(sha256(new TextEncoder().encode(canonicalMeasurements(m))));
}
