/**
 * machines.eligible_until, the registry's eligibility rule (contracts/registry eligibility.ts) with
 * time left out: provider and machine active; a keyset (machines from before keysets have none); a
 * none-dev machine only in dev mode (then forever); otherwise an attestation whose measurement is
 * allowlisted, that has at least `threshold` approvers among the current verifiers and that
 * verified the current keyset, until it expires. Eligible at time t iff eligible_until > t.
 */
import { type RawBuilder, sql } from "kysely";
import type { ApplyContext } from "./context.ts";

export const FOREVER = ((1n << 64n) - 1n).toString();

export type Scope = { machine: string } | { provider: string } | "all";

function where(scope: Scope): RawBuilder<unknown> {
  if (scope === "all") return sql`true`;
  if ("machine" in scope) return sql`m.id = ${scope.machine}::numeric`;
  return sql`m.provider = ${scope.provider}`;
}

export async function refreshEligibility(ctx: ApplyContext, scope: Scope): Promise<void> {
  await sql`
    UPDATE machines AS m SET eligible_until = CASE
      WHEN p.status IS DISTINCT FROM 'active' OR m.status <> 'active' THEN NULL
      WHEN m.keyset_sha256 IS NULL THEN NULL
      WHEN m.tee_type = 'none-dev' THEN
        CASE WHEN coalesce(rs.dev_mode, false) THEN ${FOREVER}::numeric ELSE NULL END
      WHEN a.machine_id IS NULL THEN NULL
      WHEN NOT EXISTS (SELECT 1 FROM allowlist al WHERE al.measurement_id = a.measurement_id) THEN NULL
      WHEN (SELECT count(*) FROM unnest(a.approvers) AS ap(verifier)
            WHERE ap.verifier IN (SELECT account_id FROM verifiers)) < coalesce(rs.threshold, 1) THEN NULL
      WHEN a.keyset_sha256 IS DISTINCT FROM m.keyset_sha256 THEN NULL
      ELSE a.expires_at END
    FROM machines AS m2
      LEFT JOIN providers AS p ON p.account_id = m2.provider
      LEFT JOIN attestations AS a ON a.machine_id = m2.id
      LEFT JOIN (SELECT dev_mode, threshold FROM registry_state WHERE contract = ${ctx.contract}) AS rs ON true
    WHERE m2.id = m.id AND ${where(scope)}`.execute(ctx.tx);
}
