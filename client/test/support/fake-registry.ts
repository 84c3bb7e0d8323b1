/**
 * An in-memory registry for unit tests: machines with real keys and keysets, answering the views
 * the client reads (machines, are_eligible, is_eligible, machine, provider, evidence, get_params)
 * the way contracts/registry does. Every view call is recorded.
 */
import type {
  Attestation,
  Eligibility,
  Machine,
  ModelEntry,
  Provider,
  TeeType,
} from "@gpu-market/common/src/registry-types.ts";
import {
  encryptionPublicKey,
  generateMachineSecrets,
  keysetSha256,
  type MachineSecrets,
  signingPublicKey,
} from "@gpu-market/protocol";

export const REGISTRY = "registry.test.near";
export const TINY: ModelEntry = { name: "tiny-llama", weights_sha256: "ab".repeat(32) };
export const OTHER: ModelEntry = { name: "other-model", weights_sha256: "cd".repeat(32) };

export interface FakeMachine {
  id: string;
  secrets: MachineSecrets;
  machine: Machine;
  provider: Provider;
  eligible: boolean;
  reason?: string;
  attestation: Attestation | null;
}

export interface MachineSpec {
  price?: string;
  models?: ModelEntry[];
  teeType?: TeeType;
  eligible?: boolean;
  status?: "active" | "inactive";
  provider?: string;
  endpoint?: string;
}

export function fakeMachine(id: number, spec: MachineSpec = {}): FakeMachine {
  const secrets = generateMachineSecrets();
  const providerId = spec.provider ?? `p${id}.test.near`;
  const models = spec.models ?? [TINY];
  const signing = signingPublicKey(secrets.signing);
  const encryption = encryptionPublicKey(secrets.encryption);
  const digest = keysetSha256({
    account: providerId,
    registry: REGISTRY,
    signing_key: signing,
    encryption_key: encryption,
    models,
  });
  const machine = {
    id: String(id),
    provider: providerId,
    machine_public_key: signing,
    encryption_key: encryption,
    models,
    keyset_sha256: digest,
    tee_type: spec.teeType ?? "tdx",
    hardware: { gpus: [], cpu_cores: 8, ram_mib: 16384 },
    price_per_unit: spec.price ?? "1000",
    status: spec.status ?? "active",
    created_at: "0",
    updated_at: "0",
    evidence: { hash: "ee".repeat(32), size: 100, nonce: "11".repeat(32), submitted_at: "0" },
  } as unknown as Machine;
  const provider = {
    account_id: providerId,
    name: providerId,
    endpoint: spec.endpoint ?? "http://127.0.0.1:9/v1",
    region: "eu-west-1",
    bond: "0",
    status: "active",
    created_at: "0",
    updated_at: "0",
    unbonding_ends_at: null,
  } as Provider;
  return {
    id: String(id),
    secrets,
    machine,
    provider,
    eligible: spec.eligible ?? true,
    attestation: null,
  };
}

export function eligibilityOf(m: FakeMachine | undefined, id: string): Eligibility {
  if (m === undefined) {
    return {
      machine_id: id,
      eligible: false,
      reason: `unknown machine ${id}`,
      machine_public_key: null,
      price_per_unit: null,
      provider: null,
      encryption_key: null,
      keyset_sha256: null,
      models: null,
    };
  }
  const machine = m.machine as Machine & {
    encryption_key: string;
    models: ModelEntry[];
    keyset_sha256: string;
  };
  const eligible = m.eligible && machine.status === "active";
  return {
    machine_id: m.id,
    eligible,
    ...(eligible ? {} : { reason: m.reason ?? `machine ${m.id} is not eligible` }),
    machine_public_key: machine.machine_public_key,
    price_per_unit: machine.price_per_unit,
    provider: machine.provider,
    encryption_key: machine.encryption_key,
    keyset_sha256: machine.keyset_sha256,
    models: machine.models,
  };
}

export interface ViewCall {
  method: string;
  args: Record<string, unknown>;
}

/** Answers registry views over `machines`; returns undefined for other methods. */
export function registryView(
  machines: FakeMachine[],
  method: string,
  args: Record<string, unknown>,
  params: Record<string, unknown> = {},
): unknown {
  const byId = new Map(machines.map((m) => [m.id, m]));
  switch (method) {
    case "machines": {
      const from = Number(args.from_index ?? 0);
      const limit = Number(args.limit ?? 100);
      if (limit > 100) throw new Error("limit above the registry's page limit");
      return machines.slice(from, from + limit).map((m) => m.machine);
    }
    case "are_eligible": {
      const ids = args.machine_ids as string[];
      if (ids.length > 50) throw new Error("machine_ids: at most 50");
      return ids.map((id) => eligibilityOf(byId.get(id), id));
    }
    case "is_eligible":
      return eligibilityOf(byId.get(String(args.machine_id)), String(args.machine_id));
    case "machine":
      return byId.get(String(args.machine_id))?.machine ?? null;
    case "provider":
      return machines.find((m) => m.provider.account_id === args.account_id)?.provider ?? null;
    case "evidence": {
      const m = byId.get(String(args.machine_id));
      return m === undefined ? null : { evidence: m.machine.evidence, attestation: m.attestation };
    }
    case "get_params":
      return params;
    default:
      return undefined;
  }
}
