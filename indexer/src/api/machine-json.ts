/**
 * A machine as the API answers it, built by PostgreSQL as JSON (one statement for a whole page:
 * no rows to parse and serialise again in the API process). Eligibility and attestation state are
 * judged at `now` (the indexed block's timestamp), as the registry judges them
 * (contracts/registry eligibility.ts, attestations.ts); throughput as throughput.ts describes it.
 * The query joins `machines m`, `providers p` (inner) and `attestations a` (left).
 */

/** Delivery time of the jobs with token counts (the rate's denominator). */
const DELIVERY_NS =
  "sum(j.delivered_at - j.accepted_at) FILTER (WHERE j.completion_tokens IS NOT NULL)";

/** The machine JSON expression; `now` is an SQL expression of the timestamp. */
export function machineJson(now: string): string {
  return `json_build_object(
    'id', m.id::text,
    'provider', m.provider,
    'region', m.region,
    'provider_status', p.status,
    'machine_public_key', m.machine_public_key,
    'encryption_key', m.encryption_key,
    'models', m.models,
    'keyset_sha256', m.keyset_sha256,
    'tee_type', m.tee_type,
    'price_per_unit', m.price_per_unit::text,
    'status', m.status,
    'hardware', json_build_object(
      'gpus', coalesce((
        SELECT json_agg(json_build_object('model', g.model, 'count', g.count,
          'vram_mib', g.vram_mib, 'driver', g.driver, 'vbios', g.vbios, 'cc_mode', g.cc_mode)
          ORDER BY g.position)
        FROM machine_gpus AS g WHERE g.machine_id = m.id), '[]'::json),
      'gpu_count', m.gpu_count,
      'cpu_cores', m.cpu_cores,
      'ram_mib', m.ram_mib),
    'evidence', json_build_object(
      'hash', m.evidence_hash,
      'size', m.evidence_size,
      'submitted_at', m.evidence_submitted_at::text,
      'verdicts', json_build_object(
        'outcome', m.verdict_outcome, 'approvals', m.approvals, 'rejections', m.rejections)),
    'attestation_state', CASE
      WHEN m.verdict_outcome = 'rejected' THEN 'rejected'
      WHEN a.evidence_hash = m.evidence_hash THEN
        CASE WHEN a.expires_at > ${now} THEN 'verified' ELSE 'expired' END
      ELSE 'pending' END,
    'attestation', CASE WHEN a.machine_id IS NULL THEN NULL ELSE json_build_object(
      'evidence_hash', a.evidence_hash,
      'measurement_id', a.measurement_id,
      'approvers', a.approvers,
      'verified_at', a.verified_at::text,
      'expires_at', a.expires_at::text,
      'keyset_sha256', a.keyset_sha256) END,
    'eligible', (m.eligible_until IS NOT NULL AND m.eligible_until > ${now}),
    'throughput', (
      SELECT json_build_object(
        'jobs_delivered', count(*),
        'prompt_tokens', coalesce(sum(j.prompt_tokens), 0)::text,
        'completion_tokens', coalesce(sum(j.completion_tokens), 0)::text,
        -- As throughput.ts rate(): the same double arithmetic, rounded as Math.round.
        'tokens_per_second', CASE WHEN ${DELIVERY_NS} > 0 THEN
          floor(coalesce(sum(j.completion_tokens), 0)::float8 * 1000000000 * 1000
                / (${DELIVERY_NS})::float8 + 0.5) / 1000 END)
      FROM jobs AS j WHERE j.machine_id = m.id AND j.delivered_at IS NOT NULL),
    'created_at', m.created_at::text,
    'updated_at', m.updated_at::text)`;
}
