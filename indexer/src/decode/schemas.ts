/** Which schema validates an event: by the emitting contract's role, standard, version and name. */
import type { ContractRole } from "./contracts.ts";
import { escrowEvents } from "./escrow-events.ts";
import { governanceEvents, nep141Events } from "./governance-events.ts";
import { registryEvents } from "./registry-events.ts";
import type { Check } from "./schema.ts";

type EventTable = Record<string, Check<unknown>>;

/** standard -> version -> event -> schema, per role. */
const SCHEMAS: Record<ContractRole, Record<string, Record<string, EventTable>>> = {
  registry: { gpumarket: { "1.0.0": registryEvents } },
  escrow: { gpumarket: { "1.0.0": escrowEvents } },
  governance: {
    gpumarket: { "1.0.0": governanceEvents },
    nep141: { "1.0.0": nep141Events },
  },
};

export function schemaFor(
  role: ContractRole,
  standard: string,
  version: string,
  event: string,
): Check<unknown> | null {
  const table = SCHEMAS[role][standard]?.[version];
  return table !== undefined && Object.hasOwn(table, event) ? (table[event] ?? null) : null;
}
