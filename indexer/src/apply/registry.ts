/**
 * Applies registry events to the registry's tables. Each event carries the full new record, so
 * handlers write what the event says. A handler checks what it relies on before writing anything
 * and throws ConsistencyError when the index lacks it (see context.ts). Machine eligibility is
 * refreshed whenever something it depends on changes (see eligibility.ts).
 */
import type { Updateable } from "kysely";
import type { MachinesTable } from "../db/schema.ts";
import type {
  Keyset,
  Machine,
  Provider,
  RegistryEventData,
  RegistryEventName,
} from "../decode/registry-events.ts";
import { type ApplyContext, ConsistencyError } from "./context.ts";
import { FOREVER, refreshEligibility } from "./eligibility.ts";

type Handler<N extends RegistryEventName> = (
  ctx: ApplyContext,
  data: RegistryEventData<N>,
) => Promise<void>;

async function requireRegistryState(ctx: ApplyContext): Promise<{ dev_mode: boolean }> {
  const row = await ctx.tx
    .selectFrom("registry_state")
    .select("dev_mode")
    .where("contract", "=", ctx.contract)
    .executeTakeFirst();
  if (row === undefined) {
    throw new ConsistencyError(
      `registry ${ctx.contract} has no registry_initialized event in the index`,
    );
  }
  return row;
}

async function updateRegistryState(
  ctx: ApplyContext,
  values: {
    params?: unknown;
    threshold?: number;
    dev_mode?: boolean;
    contract_version?: number;
    last_code_sha256?: string;
  },
): Promise<void> {
  await requireRegistryState(ctx);
  const { params, ...rest } = values;
  await ctx.tx
    .updateTable("registry_state")
    .set({
      ...rest,
      ...(params === undefined ? {} : { params: JSON.stringify(params) }),
      updated_height: ctx.height,
    })
    .where("contract", "=", ctx.contract)
    .execute();
}

async function upsertProvider(ctx: ApplyContext, p: Provider, slashed?: string): Promise<void> {
  const row = {
    account_id: p.account_id,
    name: p.name,
    endpoint: p.endpoint,
    region: p.region,
    bond: p.bond,
    status: p.status,
    created_at: p.created_at,
    updated_at: p.updated_at,
    unbonding_ends_at: p.unbonding_ends_at,
    updated_height: ctx.height,
  };
  await ctx.tx
    .insertInto("providers")
    .values(row)
    .onConflict((oc) =>
      oc
        .column("account_id")
        .doUpdateSet(
          slashed === undefined
            ? row
            : (eb) => ({ ...row, slashed_total: eb("providers.slashed_total", "+", slashed) }),
        ),
    )
    .execute();
}

/** A provider change after registration: its machines' region and eligibility follow. */
async function providerChanged(ctx: ApplyContext, p: Provider, slashed?: string): Promise<void> {
  await upsertProvider(ctx, p, slashed);
  await ctx.tx
    .updateTable("machines")
    .set({ region: p.region })
    .where("provider", "=", p.account_id)
    .where("region", "<>", p.region)
    .execute();
  await refreshEligibility(ctx, { provider: p.account_id });
}

/** The machine's current keyset columns; a machine from before keysets (version 1) has none. */
function keysetFields(k: Keyset | null): Updateable<MachinesTable> {
  if (k === null) return { encryption_key: null, models: "[]", keyset_sha256: null };
  return {
    machine_public_key: k.machine_public_key,
    encryption_key: k.encryption_key,
    models: JSON.stringify(k.models),
    keyset_sha256: k.keyset_sha256,
  };
}

function machineFields(m: Machine) {
  return {
    provider: m.provider,
    machine_public_key: m.machine_public_key,
    encryption_key: m.encryption_key ?? null,
    models: JSON.stringify(m.models ?? []),
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

async function addMachine(ctx: ApplyContext, m: Machine): Promise<void> {
  // One round trip for what the new row needs: the registry's dev mode and the provider.
  const found = await ctx.tx
    .selectFrom("registry_state as rs")
    .leftJoin("providers as p", (join) => join.on("p.account_id", "=", m.provider))
    .select(["rs.dev_mode", "p.region", "p.status"])
    .where("rs.contract", "=", ctx.contract)
    .executeTakeFirst();
  if (found === undefined) {
    throw new ConsistencyError(
      `registry ${ctx.contract} has no registry_initialized event in the index`,
    );
  }
  if (found.region === null || found.status === null) {
    throw new ConsistencyError(
      `machine ${m.id} names provider ${m.provider}, which the index does not have`,
    );
  }
  const provider = { region: found.region, status: found.status };
  const state = { dev_mode: found.dev_mode };
  const gpus = m.hardware.gpus;
  // A new machine has no attestation yet: only a none-dev machine with a keyset, in dev mode,
  // can be eligible.
  const eligible =
    provider.status === "active" &&
    m.status === "active" &&
    (m.keyset_sha256 ?? null) !== null &&
    m.tee_type === "none-dev" &&
    state.dev_mode;
  await ctx.tx
    .insertInto("machines")
    .values({
      id: m.id,
      ...machineFields(m),
      region: provider.region,
      gpu_models: gpus.map((g) => g.model.toLowerCase()).join("\n"),
      eligible_until: eligible ? FOREVER : null,
      cpu_cores: m.hardware.cpu_cores,
      ram_mib: m.hardware.ram_mib,
      gpu_count: gpus.reduce((sum, g) => sum + g.count, 0),
      max_vram_mib: gpus.reduce((max, g) => Math.max(max, g.vram_mib), 0),
      updated_height: ctx.height,
    })
    .execute();
  if (gpus.length > 0) {
    await ctx.tx
      .insertInto("machine_gpus")
      .values(gpus.map((g, position) => ({ machine_id: m.id, position, ...g })))
      .execute();
  }
}

/** Updates one machine row; a machine the index lacks is a ConsistencyError (nothing written). */
async function updateMachineRow(
  ctx: ApplyContext,
  id: string,
  values: Updateable<MachinesTable>,
): Promise<void> {
  const updated = await ctx.tx
    .updateTable("machines")
    .set(values)
    .where("id", "=", id)
    .returning("id")
    .executeTakeFirst();
  if (updated === undefined) {
    throw new ConsistencyError(`the event names machine ${id}, which the index does not have`);
  }
}

/** A later machine event (hardware cannot change after add_machine: its GPUs stay as added). */
async function machineChanged(
  ctx: ApplyContext,
  m: Machine,
  eligibilityMayChange: boolean,
): Promise<void> {
  await updateMachineRow(ctx, m.id, { ...machineFields(m), updated_height: ctx.height });
  if (eligibilityMayChange) await refreshEligibility(ctx, { machine: m.id });
}

async function setVerifiers(
  ctx: ApplyContext,
  verifiers: string[],
  threshold: number,
): Promise<void> {
  await requireRegistryState(ctx);
  await ctx.tx
    .deleteFrom("verifiers")
    .where("account_id", "not in", ["", ...verifiers])
    .execute();
  if (verifiers.length > 0) {
    await ctx.tx
      .insertInto("verifiers")
      .values(verifiers.map((account_id) => ({ account_id, added_height: ctx.height })))
      .onConflict((oc) => oc.column("account_id").doNothing())
      .execute();
  }
  await updateRegistryState(ctx, { threshold });
  await refreshEligibility(ctx, "all");
}

const providerEvent = (ctx: ApplyContext, p: Provider): Promise<void> => providerChanged(ctx, p);

export const registryHandlers: { [N in RegistryEventName]: Handler<N> } = {
  registry_initialized: async (ctx, d) => {
    const row = {
      contract: ctx.contract,
      owner: d.owner,
      treasury: d.treasury,
      contract_version: d.version,
      params: JSON.stringify(d.params),
      updated_height: ctx.height,
    };
    await ctx.tx
      .insertInto("registry_state")
      .values(row)
      .onConflict((oc) => oc.column("contract").doUpdateSet(row))
      .execute();
  },
  params_updated: (ctx, d) => updateRegistryState(ctx, { params: d.params }),
  // A new provider has no machines yet.
  provider_registered: (ctx, p) => upsertProvider(ctx, p),
  provider_updated: providerEvent,
  provider_paused: providerEvent,
  provider_resumed: providerEvent,
  provider_retired: providerEvent,
  provider_slashed: async (ctx, d) => {
    const { amount, reason: _reason, treasury: _treasury, ...p } = d;
    await providerChanged(ctx, p, amount);
  },
  bond_withdrawn: async (ctx, d) => {
    const { amount: _amount, ...p } = d;
    await providerChanged(ctx, p);
  },
  // Challenges are short-lived; the raw events table keeps them.
  challenge_issued: async () => {},
  machine_added: addMachine,
  machine_price_updated: (ctx, m) => machineChanged(ctx, m, false),
  machine_deactivated: (ctx, m) => machineChanged(ctx, m, true),
  machine_reactivated: (ctx, m) => machineChanged(ctx, m, true),
  machine_removed: async (ctx, d) => {
    // Cascades to its GPUs and attestation; verdicts stay as history.
    const removed = await ctx.tx
      .deleteFrom("machines")
      .where("id", "=", d.id)
      .returning("id")
      .executeTakeFirst();
    if (removed === undefined) {
      throw new ConsistencyError(`the event names machine ${d.id}, which the index does not have`);
    }
  },
  evidence_submitted: async (ctx, d) => {
    // New evidence starts a new verdict set; the previous attestation (and keyset) stay until it
    // expires. The machine's current keyset is as the event says (version 2 events): a none-dev
    // machine takes a new keyset at once.
    const keyset = d.current_keyset === undefined ? {} : keysetFields(d.current_keyset);
    await updateMachineRow(ctx, d.machine_id, {
      ...keyset,
      evidence_hash: d.hash,
      evidence_size: d.size,
      evidence_nonce: d.nonce,
      evidence_submitted_at: d.submitted_at,
      updated_at: d.submitted_at,
      verdict_outcome: "pending",
      approvals: 0,
      rejections: 0,
      updated_height: ctx.height,
    });
    if (d.current_keyset !== undefined) await refreshEligibility(ctx, { machine: d.machine_id });
  },
  verdict_posted: async (ctx, d) => {
    // Verification makes the keyset the evidence attests the machine's current one.
    const activated = d.keyset_activated ?? null;
    await updateMachineRow(ctx, d.machine_id, {
      ...(activated === null ? {} : { ...keysetFields(activated), updated_at: d.posted_at }),
      verdict_outcome: d.outcome,
      approvals: d.approvals,
      rejections: d.rejections,
      updated_height: ctx.height,
    });
    await ctx.tx
      .insertInto("verdicts")
      .values({
        receipt_id: ctx.receiptId,
        log_index: ctx.logIndex,
        block_height: ctx.height,
        machine_id: d.machine_id,
        evidence_hash: d.evidence_hash,
        verifier: d.verifier,
        approve: d.approve,
        measurement_id: d.measurement_id,
        measurements: d.measurements === null ? null : JSON.stringify(d.measurements),
        tcb_status: d.tcb_status,
        reason: d.reason,
        posted_at: d.posted_at,
        outcome: d.outcome,
        approvals: d.approvals,
        rejections: d.rejections,
      })
      .execute();
    if (d.attestation !== null) {
      const a = d.attestation;
      const row = {
        machine_id: a.machine_id,
        evidence_hash: a.evidence_hash,
        nonce: a.nonce,
        measurement_id: a.measurement_id,
        measurements: JSON.stringify(a.measurements),
        approvers: a.approvers,
        verified_at: a.verified_at,
        expires_at: a.expires_at,
        paid_by: a.paid_by,
        keyset_sha256: a.keyset_sha256 ?? null,
        updated_height: ctx.height,
      };
      await ctx.tx
        .insertInto("attestations")
        .values(row)
        .onConflict((oc) => oc.column("machine_id").doUpdateSet(row))
        .execute();
      await refreshEligibility(ctx, { machine: d.machine_id });
    } else if (d.attestation_revoked) {
      await ctx.tx.deleteFrom("attestations").where("machine_id", "=", d.machine_id).execute();
      await refreshEligibility(ctx, { machine: d.machine_id });
    }
  },
  verifier_added: (ctx, d) => setVerifiers(ctx, d.verifiers, d.threshold),
  verifier_removed: (ctx, d) => setVerifiers(ctx, d.verifiers, d.threshold),
  threshold_set: (ctx, d) => setVerifiers(ctx, d.verifiers, d.threshold),
  measurement_allowed: async (ctx, d) => {
    const row = { measurement_id: d.measurement_id, label: d.label, added_at: d.added_at };
    await ctx.tx
      .insertInto("allowlist")
      .values(row)
      .onConflict((oc) => oc.column("measurement_id").doUpdateSet(row))
      .execute();
    await refreshEligibility(ctx, "all");
  },
  measurement_revoked: async (ctx, d) => {
    const result = await ctx.tx
      .deleteFrom("allowlist")
      .where("measurement_id", "=", d.measurement_id)
      .executeTakeFirst();
    if (result.numDeletedRows === 0n) {
      throw new ConsistencyError(
        `measurement ${d.measurement_id} was revoked but is not in the index`,
      );
    }
    await refreshEligibility(ctx, "all");
  },
  dev_mode_set: async (ctx, d) => {
    await updateRegistryState(ctx, { dev_mode: d.enabled });
    await refreshEligibility(ctx, "all");
  },
  contract_upgrade_started: (ctx, d) =>
    updateRegistryState(ctx, { last_code_sha256: d.code_sha256 }),
  contract_migrated: (ctx, d) => updateRegistryState(ctx, { contract_version: d.to_version }),
};
