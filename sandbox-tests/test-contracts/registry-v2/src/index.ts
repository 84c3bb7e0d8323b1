// The registry's next version: every method of the registry, plus a migration from the current
// state version to the next that records when it ran, and a view that only this version has.
import { near } from "near-sdk-js";
import { CONTRACT_VERSION } from "../../../../contracts/registry/src/state.ts";

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
  if (state.version !== CONTRACT_VERSION) {
    fail(
      `registry-v2 migrates state version ${CONTRACT_VERSION} only, found ${String(state.version)}`,
    );
  }
  near.storageWrite("STATE", JSON.stringify({ ...state, version: CONTRACT_VERSION + 1 }));
  near.storageWrite(MIGRATED_KEY, String(near.blockHeight()));
  near.log(
    `EVENT_JSON:${JSON.stringify({
      standard: "gpumarket",
      version: "1.0.0",
      event: "contract_migrated",
      data: [{ from_version: CONTRACT_VERSION, to_version: CONTRACT_VERSION + 1 }],
    })}`,
  );
}

export function registry_v2_info(): void {
  near.valueReturn(
    JSON.stringify({
      version: CONTRACT_VERSION + 1,
      migrated_at: near.storageRead(MIGRATED_KEY) ?? null,
    }),
  );
}
