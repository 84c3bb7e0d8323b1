/**
 * migrate runs right after an upgrade_self action deployed new code, in the same receipt: if it
 * fails, the deploy is undone with it. It brings STATE from its recorded version to this one.
 */
import { near } from "near-sdk-js";
import { fail } from "../../common/src/errors.ts";
import { emit } from "./events.ts";
import { CONTRACT_VERSION, type GovernanceState } from "./state.ts";

export function migrateState(): void {
  if (near.predecessorAccountId() !== near.currentAccountId()) {
    fail("migrate may only be called by governance itself, as part of an upgrade_self action");
  }
  const raw = near.storageRead("STATE");
  if (raw === null) {
    fail("governance is not initialized");
  }
  const old = JSON.parse(raw) as GovernanceState;
  if (typeof old.version !== "number" || old.version < 1 || old.version > CONTRACT_VERSION) {
    fail(`cannot migrate state version ${String(old.version)} to ${CONTRACT_VERSION}`);
  }
  // Version 1 is the first layout; a later version transforms `old` here, one step per version.
  const migrated: GovernanceState = { ...old, version: CONTRACT_VERSION };
  near.storageWrite("STATE", JSON.stringify(migrated));
  emit({
    event: "contract_migrated",
    data: { from_version: old.version, to_version: CONTRACT_VERSION },
  });
}
