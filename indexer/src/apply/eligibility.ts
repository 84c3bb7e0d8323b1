/**
 * machines.eligible_until, the registry's eligibility rule (contracts/registry eligibility.ts) with
 * time left out: provider and machine active; a keyset (machines from before keysets have none); a
 * none-dev machine only in dev mode (then forever); otherwise an attestation whose measurement is
 * allowlisted, that has at least `threshold` approvers among the current verifiers and that
 * verified the current keyset, until it expires. Eligible at time t iff eligible_until > t.
 *
 * It is a function of the current rows alone, so a batch records which machines any of its events
 * may have changed it for (markEligibility) and computes it once for them: in memory for the
 * machines the batch adds (eligibleUntil, so a new row is written once), in SQL after writing the
 * rows for the others (refreshEligibility). Both follow the same rule, step by step.
 */
import type pg from "pg";
import type { ApplyContext } from "./context.ts";
import type { BatchState, Row } from "./state.ts";

export const FOREVER = ((1n << 64n) - 1n).toString();

export type Scope = { machine: string } | { provider: string } | "all";

export function markEligibility(ctx: ApplyContext, scope: Scope): void {
  const e = ctx.s.eligibility;
  if (scope === "all") e.all = true;
  else if ("machine" in scope) e.machines.add(scope.machine);
  else e.providers.add(scope.provider);
}

/** eligible_until of machine row `m` from the batch's rows (may throw NotLoaded, see state.ts). */
export function eligibleUntil(s: BatchState, registry: string, m: Row): string | null {
  const provider = s.get("providers", [m.provider as string]);
  if (provider?.status !== "active" || m.status !== "active") return null;
  if (m.keyset_sha256 === null) return null;
  const rs = s.get("registry_state", [registry]);
  if (m.tee_type === "none-dev") return rs?.dev_mode === true ? FOREVER : null;
  const a = s.get("attestations", [m.id as string]);
  if (a === null) return null;
  if (s.get("allowlist", [a.measurement_id as string]) === null) return null;
  const verifiers = new Set(s.all("verifiers").map((v) => v.account_id as string));
  const approvals = (a.approvers as string[]).filter((v) => verifiers.has(v)).length;
  if (approvals < ((rs?.threshold as number | undefined) ?? 1)) return null;
  if ((a.keyset_sha256 ?? null) !== (m.keyset_sha256 ?? null)) return null;
  return String(a.expires_at);
}

const UNTIL = `CASE
      WHEN p.status IS DISTINCT FROM 'active' OR m.status <> 'active' THEN NULL
      WHEN m.keyset_sha256 IS NULL THEN NULL
      WHEN m.tee_type = 'none-dev' THEN
        CASE WHEN coalesce(rs.dev_mode, false) THEN ${FOREVER}::numeric ELSE NULL END
      WHEN a.machine_id IS NULL THEN NULL
      WHEN NOT EXISTS (SELECT 1 FROM allowlist al WHERE al.measurement_id = a.measurement_id) THEN NULL
      WHEN (SELECT count(*) FROM unnest(a.approvers) AS ap(verifier)
            WHERE ap.verifier IN (SELECT account_id FROM verifiers)) < coalesce(rs.threshold, 1) THEN NULL
      WHEN a.keyset_sha256 IS DISTINCT FROM m.keyset_sha256 THEN NULL
      ELSE a.expires_at END`;

function refresh(where: string): string {
  return `UPDATE machines AS t SET eligible_until = x.until
    FROM (SELECT m.id, ${UNTIL} AS until
          FROM machines AS m
            LEFT JOIN providers AS p ON p.account_id = m.provider
            LEFT JOIN attestations AS a ON a.machine_id = m.id
            LEFT JOIN (SELECT dev_mode, threshold FROM registry_state WHERE contract = $1) AS rs ON true
          WHERE ${where}) AS x
    WHERE t.id = x.id AND t.eligible_until IS DISTINCT FROM x.until`;
}

const ALL = refresh("true");
const SOME = refresh("m.id = ANY($2::numeric[]) OR m.provider = ANY($3::text[])");

/** Recomputes eligible_until of every machine in scope (all, or these machines and providers'). */
export async function refreshEligibility(
  client: pg.ClientBase,
  registry: string,
  scope: { all: boolean; machines: Set<string>; providers: Set<string> },
): Promise<void> {
  if (scope.all) {
    await client.query({ name: "eligibility_all", text: ALL, values: [registry] });
  } else if (scope.machines.size > 0 || scope.providers.size > 0) {
    await client.query({
      name: "eligibility_some",
      text: SOME,
      values: [registry, [...scope.machines], [...scope.providers]],
    });
  }
}
