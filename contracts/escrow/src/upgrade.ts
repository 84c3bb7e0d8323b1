/** `upgrade` and `migrate` of the escrow (the mechanism: ../../common/src/upgrade.ts). */
import { near } from "near-sdk-js";
import { fail } from "../../common/src/errors.ts";
import { deployInputAndMigrate, stateToMigrate } from "../../common/src/upgrade.ts";
import { CONTRACT_VERSION, type EscrowState, GAS } from "./state.ts";

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
  const old = stateToMigrate<EscrowState>(SUBJECT, CONTRACT_VERSION);
  // Version 1 is the first layout; a later version transforms `old` here, one step per version.
  near.storageWrite("STATE", JSON.stringify({ ...old, version: CONTRACT_VERSION }));
}
