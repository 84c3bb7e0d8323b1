/**
 * Code upgrades by the owner (governance), as the registry does them: `upgrade` takes the new wasm
 * as its raw input and schedules, on this account, one receipt with DeployContract +
 * FunctionCall("migrate"): if migrate fails, the deploy is rolled back with it. `migrate` brings
 * STATE from its recorded version to CONTRACT_VERSION.
 */
import { near } from "near-sdk-js";
import { toHex } from "../../common/src/encoding.ts";
import { fail } from "../../common/src/errors.ts";
import { emitEvent } from "../../common/src/events.ts";
import { assertNoDeposit, assertOwner } from "../../common/src/owner.ts";
import { CONTRACT_VERSION, type EscrowState, GAS } from "./state.ts";

const WASM_MAGIC = [0x00, 0x61, 0x73, 0x6d];

function storedState(): EscrowState {
  const raw = near.storageRead("STATE");
  if (raw === null) {
    fail("the escrow is not initialized");
  }
  return JSON.parse(raw) as EscrowState;
}

export function upgradeSelf(): void {
  assertOwner(storedState().owner, "upgrade");
  assertNoDeposit("upgrade");
  const code = near.inputRaw();
  if (code.length < 8 || WASM_MAGIC.some((byte, i) => code[i] !== byte)) {
    fail("upgrade: the input must be the new contract's wasm bytes");
  }
  const promise = near.promiseBatchCreate(near.currentAccountId());
  near.promiseBatchActionDeployContract(promise, code);
  near.promiseBatchActionFunctionCallWeight(promise, "migrate", "{}", 0n, GAS.migrate, 1n);
  emitEvent({
    event: "contract_upgrade_started",
    data: { code_sha256: toHex(near.sha256(code)), code_size: code.length },
  });
  near.promiseReturn(promise);
}

/** Rewrites STATE in the current layout; only the contract itself (upgrade's receipt) may ask. */
export function migrateState(): void {
  if (near.predecessorAccountId() !== near.currentAccountId()) {
    fail("migrate may only be called by the escrow itself, as part of upgrade");
  }
  const old = storedState();
  if (typeof old.version !== "number" || old.version < 1 || old.version > CONTRACT_VERSION) {
    fail(`cannot migrate state version ${String(old.version)} to ${CONTRACT_VERSION}`);
  }
  // Version 1 is the first layout; a later version transforms `old` here, one step per version.
  emitEvent({
    event: "contract_migrated",
    data: { from_version: old.version, to_version: CONTRACT_VERSION },
  });
  near.storageWrite("STATE", JSON.stringify({ ...old, version: CONTRACT_VERSION }));
}
