/**
 * Applies registry events to the registry's rows (state.ts). Each event carries the full new
 * record, so handlers write what the event says. A handler throws ConsistencyError when the index
 * lacks what the event relies on (its changes are then undone, see context.ts). Machine
 * eligibility is recomputed for every machine an event may have changed it for (eligibility.ts),
 * and a provider's region is copied to its machines (write.ts), once per batch.
 */
import type {
  Keyset,
  Machine,
  Provider,
  RegistryEventData,
  RegistryEventName,
} from "../decode/registry-events.ts";
import { type ApplyContext, ConsistencyError } from "./context.ts";
import { markEligibility } from "./eligibility.ts";
import type { Row } from "./state.ts";

type Handler<N extends RegistryEventName> = (ctx: ApplyContext, data: RegistryEventData<N>) => void;

function requireRegistryState(ctx: ApplyContext): Row {
  const row = ctx.s.get("registry_state", [ctx.contract]);
  if (row === null) {
    throw new ConsistencyError(
      `registry ${ctx.contract} has no registry_initialized event in the index`,
    );
  }
  return row;
}

function updateRegistryState(
  ctx: ApplyContext,
  values: {
    params?: unknown;
    threshold?: number;
    dev_mode?: boolean;
    contract_version?: number;
    last_code_sha256?: string;
  },
): void {
  const row = requireRegistryState(ctx);
  ctx.s.put("registry_state", [ctx.contract], { ...row, ...values, updated_height: ctx.height });
}

function requireMachine(ctx: ApplyContext, id: string): Row {
  const row = ctx.s.get("machines", [id]);
  if (row === null) {
    throw new ConsistencyError(`the event names machine ${id}, which the index does not have`);
  }
  return row;
}

function putProvider(ctx: ApplyContext, p: Provider, slashed?: string): void {
  const old = ctx.s.get("providers", [p.account_id]);
  const total = BigInt((old?.slashed_total as string | undefined) ?? "0");
  ctx.s.put("providers", [p.account_id], {
    account_id: p.account_id,
    name: p.name,
    endpoint: p.endpoint,
    region: p.region,
    bond: p.bond,
    status: p.status,
    created_at: p.created_at,
    updated_at: p.updated_at,
    unbonding_ends_at: p.unbonding_ends_at,
    slashed_total: (total + BigInt(slashed ?? "0")).toString(),
    updated_height: ctx.height,
  });
}

/** A provider change after registration: its machines' region and eligibility follow. */
function providerChanged(ctx: ApplyContext, p: Provider, slashed?: string): void {
  putProvider(ctx, p, slashed);
  ctx.s.regions.add(p.account_id);
  markEligibility(ctx, { provider: p.account_id });
}

/** The machine's current keyset columns; a machine from before keysets (version 1) has none. */
function keysetFields(k: Keyset | null): Row {
  if (k === null) return { encryption_key: null, models: [], keyset_sha256: null };
  return {
    machine_public_key: k.machine_public_key,
    encryption_key: k.encryption_key,
    models: k.models,
    keyset_sha256: k.keyset_sha256,
  };
}

function machineFields(m: Machine): Row {
  return {
    provider: m.provider,
    machine_public_key: m.machine_public_key,
    encryption_key: m.encryption_key ?? null,
    models: m.models ?? [],
    keyset_sha256: m.keyset_sha256 ?? null,
    tee_type: m.tee_type,
    price_per_unit: m.price_per_unit,
    status: m.status,
    created_at: m.created_at,
    updated_at: m.updated_at,
    evidence_hash: m.evidence.hash,
    evidence_size: m.evidence.size,
    evidence_nonce: m.evidence.nonce,
    evidence_submitted_at: m.evidence.submitted_at,
  };
}

function addMachine(ctx: ApplyContext, m: Machine): void {
  requireRegistryState(ctx);
  const provider = ctx.s.get("providers", [m.provider]);
  if (provider === null) {
    throw new ConsistencyError(
      `machine ${m.id} names provider ${m.provider}, which the index does not have`,
    );
  }
  if (ctx.s.get("machines", [m.id]) !== null) {
    throw new ConsistencyError(`machine ${m.id} is added again but the index already has it`);
  }
  const gpus = m.hardware.gpus;
  ctx.s.put("machines", [m.id], {
    id: m.id,
    ...machineFields(m),
    region: provider.region,
    gpu_models: gpus.map((g) => g.model.toLowerCase()).join("\n"),
    // Computed with the batch's other eligibility changes (eligibility.ts).
    eligible_until: null,
    cpu_cores: m.hardware.cpu_cores,
    ram_mib: m.hardware.ram_mib,
    gpu_count: gpus.reduce((sum, g) => sum + g.count, 0),
    max_vram_mib: gpus.reduce((max, g) => Math.max(max, g.vram_mib), 0),
    verdict_outcome: "pending",
    approvals: 0,
    rejections: 0,
    updated_height: ctx.height,
  });
  gpus.forEach((g, position) => {
    ctx.s.put("machine_gpus", [m.id, position], { machine_id: m.id, position, ...g });
  });
  markEligibility(ctx, { machine: m.id });
}

/** Changes columns of one machine; a machine the index lacks is a ConsistencyError. */
function updateMachine(ctx: ApplyContext, id: string, values: Row): void {
  const row = requireMachine(ctx, id);
  ctx.s.put("machines", [id], { ...row, ...values, updated_height: ctx.height });
}

/** A later machine event (hardware cannot change after add_machine: its GPUs stay as added). */
function machineChanged(ctx: ApplyContext, m: Machine, eligibilityMayChange: boolean): void {
  updateMachine(ctx, m.id, machineFields(m));
  if (eligibilityMayChange) markEligibility(ctx, { machine: m.id });
}

function setVerifiers(ctx: ApplyContext, verifiers: string[], threshold: number): void {
  requireRegistryState(ctx);
  const keep = new Set(verifiers);
  for (const row of ctx.s.all("verifiers")) {
    const account = row.account_id as string;
    if (!keep.has(account)) ctx.s.remove("verifiers", [account]);
  }
  for (const account of verifiers) {
    if (ctx.s.get("verifiers", [account]) === null) {
      ctx.s.put("verifiers", [account], { account_id: account, added_height: ctx.height });
    }
  }
  updateRegistryState(ctx, { threshold });
  markEligibility(ctx, "all");
}

const providerEvent = (ctx: ApplyContext, p: Provider): void => providerChanged(ctx, p);

export const registryHandlers: { [N in RegistryEventName]: Handler<N> } = {
  registry_initialized: (ctx, d) => {
    const old = ctx.s.get("registry_state", [ctx.contract]);
    ctx.s.put("registry_state", [ctx.contract], {
      threshold: 1,
      dev_mode: false,
      last_code_sha256: null,
      ...old,
      contract: ctx.contract,
      owner: d.owner,
      treasury: d.treasury,
      contract_version: d.version,
      params: d.params,
      updated_height: ctx.height,
    });
  },
  params_updated: (ctx, d) => updateRegistryState(ctx, { params: d.params }),
  // A new provider has no machines yet.
  provider_registered: (ctx, p) => putProvider(ctx, p),
  provider_updated: providerEvent,
  provider_paused: providerEvent,
  provider_resumed: providerEvent,
  provider_retired: providerEvent,
  provider_slashed: (ctx, d) => {
    const { amount, reason: _reason, treasury: _treasury, ...p } = d;
    providerChanged(ctx, p, amount);
  },
  bond_withdrawn: (ctx, d) => {
    const { amount: _amount, ...p } = d;
    providerChanged(ctx, p);
  },
  // Challenges are short-lived; the raw events table keeps them.
  challenge_issued: () => {},
  machine_added: addMachine,
  machine_price_updated: (ctx, m) => machineChanged(ctx, m, false),
  machine_deactivated: (ctx, m) => machineChanged(ctx, m, true),
  machine_reactivated: (ctx, m) => machineChanged(ctx, m, true),
  machine_removed: (ctx, d) => {
    // Its GPUs and attestation go with it (the database cascades for rows it already has; the
    // batch's own are dropped here); verdicts stay as history.
    requireMachine(ctx, d.id);
    ctx.s.remove("machines", [d.id]);
    ctx.s.remove("attestations", [d.id]);
    for (let position = 0; ctx.s.isLoaded("machine_gpus", `${d.id}\u0001${position}`); position++) {
      ctx.s.remove("machine_gpus", [d.id, position]);
    }
  },
  evidence_submitted: (ctx, d) => {
    // New evidence starts a new verdict set; the previous attestation (and keyset) stay until it
    // expires. The machine's current keyset is as the event says (version 2 events): a none-dev
    // machine takes a new keyset at once.
    const keyset = d.current_keyset === undefined ? {} : keysetFields(d.current_keyset);
    updateMachine(ctx, d.machine_id, {
      ...keyset,
      evidence_hash: d.hash,
      evidence_size: d.size,
      evidence_nonce: d.nonce,
      evidence_submitted_at: d.submitted_at,
      updated_at: d.submitted_at,
      verdict_outcome: "pending",
      approvals: 0,
      rejections: 0,
    });
    if (d.current_keyset !== undefined) markEligibility(ctx, { machine: d.machine_id });
  },
  verdict_posted: (ctx, d) => {
    // Verification makes the keyset the evidence attests the machine's current one.
    const activated = d.keyset_activated ?? null;
    updateMachine(ctx, d.machine_id, {
      ...(activated === null ? {} : { ...keysetFields(activated), updated_at: d.posted_at }),
      verdict_outcome: d.outcome,
      approvals: d.approvals,
      rejections: d.rejections,
    });
    ctx.s.append("verdicts", {
      receipt_id: ctx.receiptId,
      log_index: ctx.logIndex,
      block_height: ctx.height,
      machine_id: d.machine_id,
      evidence_hash: d.evidence_hash,
      verifier: d.verifier,
      approve: d.approve,
      measurement_id: d.measurement_id,
      measurements: d.measurements,
      tcb_status: d.tcb_status,
      reason: d.reason,
      posted_at: d.posted_at,
      outcome: d.outcome,
      approvals: d.approvals,
      rejections: d.rejections,
    });
    if (d.attestation !== null) {
      const a = d.attestation;
      ctx.s.put("attestations", [a.machine_id], {
        machine_id: a.machine_id,
        evidence_hash: a.evidence_hash,
        nonce: a.nonce,
        measurement_id: a.measurement_id,
        measurements: a.measurements,
        approvers: a.approvers,
        verified_at: a.verified_at,
        expires_at: a.expires_at,
        paid_by: a.paid_by,
        keyset_sha256: a.keyset_sha256 ?? null,
        updated_height: ctx.height,
      });
      markEligibility(ctx, { machine: d.machine_id });
    } else if (d.attestation_revoked) {
      ctx.s.remove("attestations", [d.machine_id]);
      markEligibility(ctx, { machine: d.machine_id });
    }
  },
  verifier_added: (ctx, d) => setVerifiers(ctx, d.verifiers, d.threshold),
  verifier_removed: (ctx, d) => setVerifiers(ctx, d.verifiers, d.threshold),
  threshold_set: (ctx, d) => setVerifiers(ctx, d.verifiers, d.threshold),
  measurement_allowed: (ctx, d) => {
    ctx.s.put("allowlist", [d.measurement_id], {
      measurement_id: d.measurement_id,
      label: d.label,
      added_at: d.added_at,
    });
    markEligibility(ctx, "all");
  },
  measurement_revoked: (ctx, d) => {
    if (!ctx.s.remove("allowlist", [d.measurement_id])) {
      throw new ConsistencyError(
        `measurement ${d.measurement_id} was revoked but is not in the index`,
      );
    }
    markEligibility(ctx, "all");
  },
  dev_mode_set: (ctx, d) => {
    updateRegistryState(ctx, { dev_mode: d.enabled });
    markEligibility(ctx, "all");
  },
  contract_upgrade_started: (ctx, d) =>
    updateRegistryState(ctx, { last_code_sha256: d.code_sha256 }),
  contract_migrated: (ctx, d) => updateRegistryState(ctx, { contract_version: d.to_version }),
};
