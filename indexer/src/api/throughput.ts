/**
 * Delivered work per machine, from the jobs' delivery receipts: how many jobs were delivered, the
 * prompt and completion tokens of those, and the completion tokens per second of delivery time
 * (delivered_at - accepted_at: the time the machine had the job, from acceptance to the signed
 * delivery). Jobs of escrow version 1 (no token counts) count as delivered but add no tokens.
 * A machine's figures are computed with its JSON in SQL (machine-json.ts), by the same rule; a
 * job's here.
 */

const NS_PER_SECOND = 1_000_000_000;

/** Rounded to thousandths: a rate for people and charts, never an amount. */
function rate(tokens: string | number, ns: string | number | null): number | null {
  if (ns === null || Number(ns) <= 0) return null;
  return Math.round((Number(tokens) * NS_PER_SECOND * 1000) / Number(ns)) / 1000;
}

/** One job's completion tokens per second of delivery time, once delivered with token counts. */
export function jobTokensPerSecond(job: {
  completion_tokens: string | null;
  accepted_at: string | null;
  delivered_at: string | null;
}): number | null {
  if (job.completion_tokens === null || job.accepted_at === null || job.delivered_at === null) {
    return null;
  }
  return rate(
    job.completion_tokens,
    (BigInt(job.delivered_at) - BigInt(job.accepted_at)).toString(),
  );
}
