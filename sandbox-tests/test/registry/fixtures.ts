/**
 * Registry fixtures without test-runner dependencies (the bench script uses them too): machine
 * keys, evidence bytes, hardware, measurements and the REPORTDATA/measurement-id formulas.
 */
import { createHash } from "node:crypto";
import { KeyPair } from "near-workspaces";

export interface MachineKey {
  text: string;
  bytes: Uint8Array;
}

export function newMachineKey(): MachineKey {
  const publicKey = KeyPair.fromRandom("ed25519").getPublicKey();
  return { text: publicKey.toString(), bytes: Uint8Array.from(publicKey.data) };
}

export interface EvidenceBytes {
  base64: string;
  hash: string;
  size: number;
}

export function newEvidence(size = 512): EvidenceBytes {
  const bytes = Buffer.alloc(size);
  for (let i = 0; i < size; i += 32) {
    createHash("sha256").update(`${Math.random()}-${i}`).digest().copy(bytes, i);
  }
  return {
    base64: bytes.toString("base64"),
    hash: createHash("sha256").update(bytes).digest("hex"),
    size,
  };
}

export const HARDWARE = {
  gpus: [
    {
      model: "NVIDIA H100 80GB HBM3",
      count: 1,
      vram_mib: 81559,
      driver: "580.159.04",
      vbios: "96.00.CF.00.01",
      cc_mode: "on",
    },
  ],
  cpu_cores: 16,
  ram_mib: 131072,
};

export const MEASUREMENTS = {
  mrtd: "a1".repeat(48),
  rtmr0: "b2".repeat(48),
  rtmr1: "c3".repeat(48),
  rtmr2: "d4".repeat(48),
  rtmr3: "",
  gpu_driver: "580.159.04",
  gpu_vbios: "96.00.CF.00.01",
};

/**
 * sha256 hex of the canonical measurement JSON (sorted keys, no whitespace), computed
 * independently of the contract's code.
 */
export function measurementIdOf(m: typeof MEASUREMENTS): string {
  const sorted = Object.fromEntries(Object.entries(m).sort(([a], [b]) => a.localeCompare(b)));
  return createHash("sha256").update(JSON.stringify(sorted)).digest("hex");
}

/** REPORTDATA as the README specifies it, computed independently of the contract. */
export function reportDataOf(
  registry: string,
  provider: string,
  machineKey: Uint8Array,
  nonceHex: string,
): string {
  const digest = createHash("sha256")
    .update("gpumarket/v1/report-data")
    .update(Buffer.from([0]))
    .update(registry)
    .update(Buffer.from([0]))
    .update(provider)
    .update(Buffer.from([0]))
    .update(machineKey)
    .update(Buffer.from(nonceHex, "hex"))
    .digest();
  return Buffer.concat([digest, Buffer.alloc(32)]).toString("hex");
}
