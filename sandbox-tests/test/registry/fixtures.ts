/**
 * Registry fixtures without test-runner dependencies (the bench script uses them too): machine
 * keys and keysets, evidence bytes, hardware, measurements and the keyset/REPORTDATA/measurement-id
 * formulas, computed independently of the contract's code.
 */
import { createHash, randomBytes } from "node:crypto";
import { KeyPair } from "near-workspaces";

export interface MachineKey {
  text: string;
  bytes: Uint8Array;
  /** The private half, which proves possession of the key (null: a key the test cannot sign with). */
  keyPair: KeyPair | null;
}

export function newMachineKey(): MachineKey {
  const keyPair = KeyPair.fromRandom("ed25519");
  const publicKey = keyPair.getPublicKey();
  return { text: publicKey.toString(), bytes: Uint8Array.from(publicKey.data), keyPair };
}

/**
 * The proof of possession add_machine and submit_evidence take: the machine key's ed25519
 * signature (hex) over sha256 of the canonical JSON {account, nonce, registry, signing_key,
 * version: "gpumarket/v1/machine-key"}, built here independently of the contract.
 */
export function machineKeyProof(
  key: MachineKey,
  provider: string,
  registry: string,
  nonce: string,
): string {
  if (key.keyPair === null) throw new Error(`the test holds no private key for ${key.text}`);
  const document = JSON.stringify({
    account: provider,
    nonce,
    registry,
    signing_key: key.text,
    version: "gpumarket/v1/machine-key",
  });
  const digest = createHash("sha256").update(document).digest();
  return Buffer.from(key.keyPair.sign(digest).signature).toString("hex");
}

export interface ModelEntry {
  name: string;
  weights_sha256: string;
}

const sha256Hex = (text: string): string => createHash("sha256").update(text).digest("hex");

/** Two models, sorted by name as the registry requires. */
export const MODELS: ModelEntry[] = [
  { name: "llama-3.1-8b-instruct", weights_sha256: sha256Hex("llama-3.1-8b-instruct weights") },
  { name: "qwen2.5-7b-instruct", weights_sha256: sha256Hex("qwen2.5-7b-instruct weights") },
];

/** What a machine's TEE attests: its signing key, its X25519 encryption key and its models. */
export interface Keyset {
  key: MachineKey;
  encryptionKey: string;
  models: ModelEntry[];
}

/** "x25519:<64 hex>": any 32 bytes are an X25519 public key. */
export function newEncryptionKey(): string {
  return `x25519:${randomBytes(32).toString("hex")}`;
}

export function newKeyset(key: MachineKey = newMachineKey(), models = MODELS): Keyset {
  return { key, encryptionKey: newEncryptionKey(), models };
}

/** The keyset fields of add_machine / submit_evidence / report_data arguments. */
export function keysetArgs(keyset: Keyset): Record<string, unknown> {
  return {
    machine_public_key: keyset.key.text,
    encryption_key: keyset.encryptionKey,
    models: keyset.models,
  };
}

/**
 * sha256 of the keyset document as contracts/common/src/inference-messages.ts specifies it:
 * canonical JSON (keys sorted, no whitespace) with version "gpumarket/v1/keyset".
 */
export function keysetSha256Of(provider: string, registry: string, keyset: Keyset): string {
  const models = keyset.models.map((m) => ({ name: m.name, weights_sha256: m.weights_sha256 }));
  const document = JSON.stringify({
    account: provider,
    encryption_key: keyset.encryptionKey,
    models,
    registry,
    signing_key: keyset.key.text,
    version: "gpumarket/v1/keyset",
  });
  return sha256Hex(document);
}

/** REPORTDATA: the keyset's sha256 then the challenge nonce (64 bytes, hex). */
export function reportDataOf(keysetSha256: string, nonceHex: string): string {
  return `${keysetSha256}${nonceHex}`;
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
