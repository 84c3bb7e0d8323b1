/** `upgrade` and `migrate` of the escrow (the mechanism: ../../common/src/upgrade.ts). */
import { near } from "near-sdk-js";
import { fail } from "../../common/src/errors.ts";
import { deployInputAndMigrate, stateToMigrate } from "../../common/src/upgrade.ts";
import { CONTRACT_VERSION, DEFAULT_PARAMS, type EscrowState, GAS } from "./state.ts";

const SUBJECT = { name: "the escrow", asPartOf: "upgrade" };

export function upgradeSelf(): void {
  const raw = near.storageRead("STATE");
  if (raw === null) {
    fail("the escrow is not initialized");
  }
  deployInputAndMigrate((JSON.parse(raw) as EscrowState).owner, GAS.migrate);
}

/** Rewrites STATE in the current layout. */
export function migrateState(): void {
  const old = stateToMigrate<
    EscrowState | Omit<EscrowState, "exposure_from_job_id" | "next_session_id">
  >(SUBJECT, CONTRACT_VERSION);
  // 1 -> 2 leaves STATE as it is. Job records are not rewritten (they may be many): getJob reads a
  // version-1 job with the new fields null. A version-1 approval request names no keyset, so
  // approve_job refuses it (reject_approval still frees it).
  // 2 -> 3: providers' exposure counts the jobs created from now on (exposure.ts); approval
  // requests stored without max_price_per_unit are refused by approve_job.
  const exposureFrom = "exposure_from_job_id" in old ? old.exposure_from_job_id : old.next_job_id;
  // 3 -> 4: sessions start at id 0, with the default lifetime bounds.
  const migrated: EscrowState = {
    ...old,
    params: { ...DEFAULT_PARAMS, ...old.params },
    exposure_from_job_id: exposureFrom,
    next_session_id: "next_session_id" in old ? old.next_session_id : "0",
    version: CONTRACT_VERSION,
  };
  near.storageWrite("STATE", JSON.stringify(migrated));
}
