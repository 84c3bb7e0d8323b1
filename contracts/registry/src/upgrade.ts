/** `upgrade` and `migrate` of the registry (the mechanism: ../../common/src/upgrade.ts). */
import { near } from "near-sdk-js";
import { fail } from "../../common/src/errors.ts";
import type { RegistryParams } from "../../common/src/registry-types.ts";
import { deployInputAndMigrate, stateToMigrate } from "../../common/src/upgrade.ts";
import { CONTRACT_VERSION, DEFAULT_PARAMS, type RegistryState } from "./state.ts";

/** migrate gets at least this, plus all gas left unused by this call (weight 1). */
const MIGRATE_MIN_GAS = 30_000_000_000_000n;
const SUBJECT = { name: "the registry", asPartOf: "upgrade" };

export function upgradeSelf(): void {
  const raw = near.storageRead("STATE");
  if (raw === null) {
    fail("the registry is not initialized");
  }
  deployInputAndMigrate((JSON.parse(raw) as RegistryState).owner, MIGRATE_MIN_GAS);
}

/** STATE as version 2 stored it: no escrow. */
type StateV2 = Omit<RegistryState, "escrow">;

/** STATE as version 1 stored it: params without allowed_tcb_statuses. */
type StateV1 = Omit<StateV2, "params"> & {
  params: Omit<RegistryParams, "allowed_tcb_statuses">;
};

/**
 * Rewrites STATE in the current layout, one step per version. Records are not rewritten (their
 * number is unbounded): machine-store.ts and attestations.ts read version 1 machines and
 * attestations as having no keyset, and eligibility then names that; key markers of version 2
 * that no machine holds any more (rotated-away keys) read as free (keyset.ts).
 */
export function migrateState(): void {
  const old = stateToMigrate<RegistryState | StateV2 | StateV1>(SUBJECT, CONTRACT_VERSION);
  let params = old.params as RegistryParams;
  if (old.version === 1) {
    params = { ...old.params, allowed_tcb_statuses: DEFAULT_PARAMS.allowed_tcb_statuses };
  }
  // Version 3: no escrow is wired until governance calls set_escrow.
  const escrow = "escrow" in old ? old.escrow : "";
  const migrated: RegistryState = { ...old, params, escrow, version: CONTRACT_VERSION };
  near.storageWrite("STATE", JSON.stringify(migrated));
}
