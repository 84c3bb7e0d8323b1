/**
 * migrate runs right after an upgrade_self action deployed new code, in the same receipt: if it
 * fails, the deploy is undone with it. It brings STATE from its recorded version to this one.
 */
import { near } from "near-sdk-js";
import { stateToMigrate } from "../../common/src/upgrade.ts";
import { CONTRACT_VERSION, type GovernanceState } from "./state.ts";

const SUBJECT = { name: "governance", asPartOf: "an upgrade_self action" };

/** STATE as version 1 stored it: no legacy grace period. */
type StateV1 = Omit<GovernanceState, "legacy_grace_period_blocks">;

export function migrateState(): void {
  const old = stateToMigrate<GovernanceState | StateV1>(SUBJECT, CONTRACT_VERSION);
  // 1 -> 2: proposals stored by version 1 keep the grace period in force now (they had none of
  // their own). Accounts of version 1 (no `g`) count in what is owed once next written.
  const legacy =
    "legacy_grace_period_blocks" in old
      ? old.legacy_grace_period_blocks
      : old.config.grace_period_blocks;
  const migrated: GovernanceState = {
    ...old,
    legacy_grace_period_blocks: legacy,
    version: CONTRACT_VERSION,
  };
  near.storageWrite("STATE", JSON.stringify(migrated));
}
