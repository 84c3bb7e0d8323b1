/**
 * migrate runs right after an upgrade_self action deployed new code, in the same receipt: if it
 * fails, the deploy is undone with it. It brings STATE from its recorded version to this one.
 */
import { near } from "near-sdk-js";
import { stateToMigrate } from "../../common/src/upgrade.ts";
import { CONTRACT_VERSION, type GovernanceState } from "./state.ts";

const SUBJECT = { name: "governance", asPartOf: "an upgrade_self action" };

export function migrateState(): void {
  const old = stateToMigrate<GovernanceState>(SUBJECT, CONTRACT_VERSION);
  // Version 1 is the first layout; a later version transforms `old` here, one step per version.
  const migrated: GovernanceState = { ...old, version: CONTRACT_VERSION };
  near.storageWrite("STATE", JSON.stringify(migrated));
}
