// The registry, version 2: every method of the registry, plus a migration from state version 1
// that records when it ran and a view that only this version has.
import { near } from "near-sdk-js";

export * from "../../../../contracts/registry/src/index.ts";

const MIGRATED_KEY = "v2:migrated_at";

function fail(message: string): never {
  throw new Error(message);
}

export function migrate(): void {
  if (near.predecessorAccountId() !== near.currentAccountId()) {
    fail("migrate may only be called by the registry itself, as part of upgrade");
  }
  const raw = near.storageRead("STATE");
  if (raw === null) {
    fail("the registry is not initialized");
  }
  const state = JSON.parse(raw) as { version: unknown };
  if (state.version !== 1) {
    fail(`registry-v2 migrates state version 1 only, found ${String(state.version)}`);
  }
  near.storageWrite("STATE", JSON.stringify({ ...state, version: 2 }));
  near.storageWrite(MIGRATED_KEY, String(near.blockHeight()));
  near.log(
    `EVENT_JSON:${JSON.stringify({
      standard: "gpumarket",
      version: "1.0.0",
      event: "contract_migrated",
      data: [{ from_version: 1, to_version: 2 }],
    })}`,
  );
}

export function registry_v2_info(): void {
  near.valueReturn(
    JSON.stringify({ version: 2, migrated_at: near.storageRead(MIGRATED_KEY) ?? null }),
  );
}
