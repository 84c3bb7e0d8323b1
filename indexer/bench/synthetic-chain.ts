/**
 * A generated chain of StreamerMessages with registry events as the registry emits them: init,
 * verifiers, allowlist, providers, then machines with their keysets (added, most attested by a
 * verdict, some repriced or deactivated). Used by the bench and by API tests that need many
 * machines.
 */
import { createHash } from "node:crypto";

const GPU_MODELS = [
  { model: "NVIDIA H100 80GB HBM3", vram_mib: 81559 },
  { model: "NVIDIA H200 141GB HBM3e", vram_mib: 143771 },
  { model: "NVIDIA A100-SXM4-40GB", vram_mib: 40960 },
  { model: "NVIDIA L40S", vram_mib: 46068 },
];
const REGIONS = ["eu-west-1", "us-east-1", "ap-south-1", "us-west-2"];
const TEE_TYPES = ["tdx", "tdx", "tdx", "sev-snp"];
const sha256 = (text: string): string => createHash("sha256").update(text).digest("hex");
/** Model names sorted, with their weights hashes; each machine serves one or two of them. */
export const SYNTHETIC_MODELS = ["llama-3.1-8b-instruct", "mistral-7b-instruct", "qwen2.5-72b"].map(
  (name) => ({ name, weights_sha256: sha256(`${name} weights`) }),
);
const MEASUREMENTS = {
  mrtd: "a1".repeat(48),
  rtmr0: "b2".repeat(48),
  rtmr1: "c3".repeat(48),
  rtmr2: "d4".repeat(48),
  rtmr3: "",
  gpu_driver: "580.159.04",
  gpu_vbios: "96.00.CF.00.01",
};
const MEASUREMENT_ID = "5".repeat(64);
const START_NS = 1_790_000_000_000_000_000n;
const BLOCK_NS = 1_000_000_000n;
const TTL_NS = 10n ** 18n;

export interface SyntheticOptions {
  registry?: string;
  providers: number;
  machines: number;
  /** Events per block (each in its own receipt). */
  eventsPerBlock?: number;
  startHeight?: number;
  /** Called with every event as it is put in a block (the chain's own view of its state). */
  onEvent?: (event: Emitted, height: number, timestampNs: bigint) => void;
}

export interface Emitted {
  event: string;
  data: Record<string, unknown>;
  predecessor: string;
}

function hashOf(height: number): string {
  return `synthetic-block-${height}`;
}

/** Deterministic pseudo-random numbers (mulberry32). */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function* events(options: SyntheticOptions, now: () => bigint): Generator<Emitted> {
  const registry = options.registry ?? "registry.test.near";
  const owner = "owner.test.near";
  const verifiers = ["v1.test.near", "v2.test.near", "v3.test.near"];
  const rand = random(7);
  yield {
    event: "registry_initialized",
    predecessor: registry,
    data: {
      owner,
      treasury: owner,
      params: {
        min_bond: "1000000000000000000000000",
        unbonding_period_ns: "604800000000000",
        challenge_ttl_ns: "3600000000000",
        attestation_ttl_ns: TTL_NS.toString(),
        max_evidence_bytes: 8192,
        allowed_tcb_statuses: ["UpToDate"],
      },
      version: 2,
    },
  };
  for (let i = 0; i < verifiers.length; i++) {
    yield {
      event: "verifier_added",
      predecessor: owner,
      data: { verifier: verifiers[i], verifiers: verifiers.slice(0, i + 1), threshold: 1 },
    };
  }
  yield {
    event: "measurement_allowed",
    predecessor: owner,
    data: { measurement_id: MEASUREMENT_ID, label: "H100 CC image v1", added_at: now().toString() },
  };
  const providers: string[] = [];
  for (let i = 0; i < options.providers; i++) {
    const account = `provider${i}.test.near`;
    providers.push(account);
    const t = now().toString();
    yield {
      event: "provider_registered",
      predecessor: account,
      data: {
        account_id: account,
        name: `Provider ${i}`,
        endpoint: `https://gpu${i}.example.com/v1`,
        region: REGIONS[i % REGIONS.length],
        bond: (10n ** 24n * BigInt(1 + (i % 5))).toString(),
        status: "active",
        created_at: t,
        updated_at: t,
        unbonding_ends_at: null,
      },
    };
  }
  for (let id = 0; id < options.machines; id++) {
    const provider = providers[id % providers.length] as string;
    const gpu = GPU_MODELS[Math.floor(rand() * GPU_MODELS.length)] as (typeof GPU_MODELS)[number];
    const t = now().toString();
    const evidenceHash = id.toString(16).padStart(64, "0");
    const keysetSha256 = sha256(`keyset ${id}`);
    const models = SYNTHETIC_MODELS.filter((_, i) => i === id % 3 || (id % 5 === 0 && i === 2));
    const machine = {
      id: String(id),
      provider,
      machine_public_key: `ed25519:synthetic${id}`,
      encryption_key: `x25519:${sha256(`encryption key ${id}`)}`,
      models,
      keyset_sha256: keysetSha256,
      tee_type: TEE_TYPES[id % TEE_TYPES.length],
      hardware: {
        gpus: [
          {
            model: gpu.model,
            count: 1 + Math.floor(rand() * 8),
            vram_mib: gpu.vram_mib,
            driver: "580.159.04",
            vbios: "96.00.CF.00.01",
            cc_mode: "on",
          },
        ],
        cpu_cores: 16 + 16 * Math.floor(rand() * 8),
        ram_mib: 131072 * (1 + Math.floor(rand() * 4)),
      },
      price_per_unit: (10n ** 18n * BigInt(1 + Math.floor(rand() * 100))).toString(),
      status: "active",
      created_at: t,
      updated_at: t,
      evidence: {
        hash: evidenceHash,
        size: 4096,
        nonce: "ab".repeat(32),
        submitted_at: t,
        keyset_sha256: keysetSha256,
      },
      next_keyset: null,
    };
    yield { event: "machine_added", predecessor: provider, data: machine };
    if (rand() < 0.8) {
      const posted = now().toString();
      yield {
        event: "verdict_posted",
        predecessor: verifiers[0] as string,
        data: {
          machine_id: String(id),
          evidence_hash: evidenceHash,
          verifier: verifiers[0],
          approve: true,
          measurements: MEASUREMENTS,
          measurement_id: MEASUREMENT_ID,
          tcb_status: "UpToDate",
          reason: "",
          posted_at: posted,
          outcome: "verified",
          approvals: 1,
          rejections: 0,
          attestation: {
            machine_id: String(id),
            evidence_hash: evidenceHash,
            nonce: "ab".repeat(32),
            measurement_id: MEASUREMENT_ID,
            measurements: MEASUREMENTS,
            approvers: [verifiers[0]],
            verified_at: posted,
            expires_at: (BigInt(posted) + TTL_NS).toString(),
            paid_by: verifiers[0],
            keyset_sha256: keysetSha256,
          },
          attestation_revoked: false,
          keyset_activated: null,
        },
      };
    }
    if (rand() < 0.1) {
      machine.price_per_unit = (BigInt(machine.price_per_unit) + 10n ** 17n).toString();
      machine.updated_at = now().toString();
      yield { event: "machine_price_updated", predecessor: provider, data: { ...machine } };
    }
    if (rand() < 0.05) {
      machine.status = "inactive";
      machine.updated_at = now().toString();
      yield { event: "machine_deactivated", predecessor: provider, data: { ...machine } };
    }
  }
}

/** The chain's blocks as raw StreamerMessages, in height order. */
export function* syntheticChain(options: SyntheticOptions): Generator<Record<string, unknown>> {
  const registry = options.registry ?? "registry.test.near";
  const perBlock = options.eventsPerBlock ?? 20;
  const start = options.startHeight ?? 1;
  let height = start;
  const timestamp = () => START_NS + BigInt(height) * BLOCK_NS;
  let pending: Emitted[] = [];
  const block = (items: Emitted[]): Record<string, unknown> => {
    const message = {
      block: {
        author: "test.near",
        // One chunk per block, in shard 0 (NEAR Lake stores each chunk's shard as its own object).
        chunks: [
          {
            chunk_hash: `synthetic-chunk-${height}`,
            shard_id: 0,
            height_created: height,
            height_included: height,
          },
        ],
        header: {
          height,
          prev_height: height - 1,
          hash: hashOf(height),
          prev_hash: hashOf(height - 1),
          timestamp: Number(timestamp()),
          timestamp_nanosec: timestamp().toString(),
        },
      },
      shards: [
        {
          shard_id: 0,
          receipt_execution_outcomes: items.map((item, i) => ({
            execution_outcome: {
              id: `receipt-${height}-${i}`,
              outcome: {
                logs: [
                  `EVENT_JSON:${JSON.stringify({ standard: "gpumarket", version: "1.0.0", event: item.event, data: [item.data] })}`,
                ],
                executor_id: registry,
                status: { SuccessValue: "" },
                receipt_ids: [],
                gas_burnt: 10_000_000_000_000,
                tokens_burnt: "1000000000000000000000",
              },
            },
            receipt: {
              receipt_id: `receipt-${height}-${i}`,
              predecessor_id: item.predecessor,
              receiver_id: registry,
            },
            tx_hash: `tx-${height}-${i}`,
          })),
        },
      ],
    };
    height++;
    return message;
  };
  for (const event of events(options, timestamp)) {
    options.onEvent?.(event, height, timestamp());
    pending.push(event);
    if (pending.length >= perBlock) {
      yield block(pending);
      pending = [];
    }
  }
  if (pending.length > 0) yield block(pending);
}

export function syntheticFirstHash(startHeight = 1): string {
  return hashOf(startHeight - 1);
}
