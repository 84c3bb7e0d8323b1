/** `upgrade` and `migrate` of the registry (the mechanism: ../../common/src/upgrade.ts). */
import { near } from "near-sdk-js";
import { fail } from "../../common/src/errors.ts";
import { deployInputAndMigrate, stateToMigrate } from "../../common/src/upgrade.ts";
import { CONTRACT_VERSION, type RegistryState } from "./state.ts";

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

/** Rewrites STATE in the current layout. */
export function migrateState(): void {
  const old = stateToMigrate<RegistryState>(SUBJECT, CONTRACT_VERSION);
  // Version 1 is the first layout; a later version transforms `old` here, one step per version.
  const migrated: RegistryState = { ...old, version: CONTRACT_VERSION };
  near.storageWrite("STATE", JSON.stringify(migrated));
}
