/**
 * How a governed contract replaces its code. `upgrade` (owner only) takes the new wasm as its raw
 * input and schedules, on the contract's own account, one receipt with DeployContract +
 * FunctionCall("migrate"): if migrate fails, the deploy is rolled back with it. `migrate` then
 * brings STATE from its recorded version to the code's.
 */
import { near } from "near-sdk-js";
import { toHex } from "./encoding.ts";
import { fail } from "./errors.ts";
import { emitEvent } from "./events.ts";
import { assertNoDeposit, assertOwner } from "./owner.ts";

const WASM_MAGIC = [0x00, 0x61, 0x73, 0x6d];

/** Deploys the call's raw input and runs migrate with at least `migrateGas` (plus all unused gas). */
export function deployInputAndMigrate(owner: string, migrateGas: bigint): void {
  assertOwner(owner, "upgrade");
  assertNoDeposit("upgrade");
  const code = near.inputRaw();
  if (code.length < 8 || WASM_MAGIC.some((byte, i) => code[i] !== byte)) {
    fail("upgrade: the input must be the new contract's wasm bytes");
  }
  const promise = near.promiseBatchCreate(near.currentAccountId());
  near.promiseBatchActionDeployContract(promise, code);
  near.promiseBatchActionFunctionCallWeight(promise, "migrate", "{}", 0n, migrateGas, 1n);
  emitEvent({
    event: "contract_upgrade_started",
    data: { code_sha256: toHex(near.sha256(code)), code_size: code.length },
  });
  near.promiseReturn(promise);
}

/** Who may ask for a migration, for the error messages: "the registry", "as part of upgrade". */
export interface MigrationSubject {
  name: string;
  asPartOf: string;
}

/**
 * STATE as stored, for `migrate` to rewrite: only the contract itself may ask (inside the
 * upgrade's receipt), and only for a version this code can bring to `current`. Emits
 * contract_migrated; the caller writes the new STATE.
 */
export function stateToMigrate<State extends { version: number }>(
  subject: MigrationSubject,
  current: number,
): State {
  if (near.predecessorAccountId() !== near.currentAccountId()) {
    fail(`migrate may only be called by ${subject.name} itself, as part of ${subject.asPartOf}`);
  }
  const raw = near.storageRead("STATE");
  if (raw === null) {
    fail(`${subject.name} is not initialized`);
  }
  const old = JSON.parse(raw) as State;
  if (typeof old.version !== "number" || old.version < 1 || old.version > current) {
    fail(`cannot migrate state version ${String(old.version)} to ${current}`);
  }
  emitEvent({
    event: "contract_migrated",
    data: { from_version: old.version, to_version: current },
  });
  return old;
}
