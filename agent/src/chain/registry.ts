/**
 * The provider's machines as the registry records them: the agent matches them to its keys at
 * start (which machines it serves, and whether the attested keyset lists the models it loaded).
 */
import type { ModelEntry } from "@gpu-market/protocol";
import type { NearClient } from "./near.ts";

export interface RegistryMachine {
  id: string;
  provider: string;
  machine_public_key: string;
  encryption_key: string | null;
  keyset_sha256: string | null;
  models: ModelEntry[] | null;
  status: string;
  evidence: { hash: string; size: number } | null;
}

const PAGE = 100;

function parseMachine(value: unknown): RegistryMachine {
  const m = value as Record<string, unknown>;
  if (typeof m !== "object" || m === null || typeof m.id !== "string") {
    throw new Error("registry.machines: an entry is not a machine");
  }
  const evidence = m.evidence as { hash?: unknown; size?: unknown } | null | undefined;
  return {
    id: m.id,
    provider: String(m.provider),
    machine_public_key: String(m.machine_public_key),
    encryption_key: typeof m.encryption_key === "string" ? m.encryption_key : null,
    keyset_sha256: typeof m.keyset_sha256 === "string" ? m.keyset_sha256 : null,
    models: Array.isArray(m.models) ? (m.models as ModelEntry[]) : null,
    status: String(m.status),
    evidence:
      evidence && typeof evidence.hash === "string" && typeof evidence.size === "number"
        ? { hash: evidence.hash, size: evidence.size }
        : null,
  };
}

/** Every machine of `provider`, in id order. */
export async function providerMachines(
  near: NearClient,
  registry: string,
  provider: string,
): Promise<RegistryMachine[]> {
  const out: RegistryMachine[] = [];
  for (let from = 0; ; from += PAGE) {
    const page = await near.view<unknown[]>(registry, "machines", {
      provider,
      from_index: from,
      limit: PAGE,
    });
    out.push(...page.map(parseMachine));
    if (page.length < PAGE) return out;
  }
}
