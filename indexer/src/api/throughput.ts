/**
 * Delivered work per machine, from the jobs' delivery receipts: how many jobs were delivered, the
 * prompt and completion tokens of those, and the completion tokens per second of delivery time
 * (delivered_at - accepted_at: the time the machine had the job, from acceptance to the signed
 * delivery). Jobs of escrow version 1 (no token counts) count as delivered but add no tokens.
 */
import { type Kysely, sql } from "kysely";
import type { Database } from "../db/schema.ts";

const NS_PER_SECOND = 1_000_000_000;

export interface Throughput {
  jobs_delivered: number;
  prompt_tokens: string;
  completion_tokens: string;
  /** Completion tokens / seconds between acceptance and delivery, over jobs with token counts. */
  tokens_per_second: number | null;
}

export const NO_THROUGHPUT: Throughput = {
  jobs_delivered: 0,
  prompt_tokens: "0",
  completion_tokens: "0",
  tokens_per_second: null,
};

/** Rounded to thousandths: a rate for people and charts, never an amount. */
function rate(tokens: string | number, ns: string | number | null): number | null {
  if (ns === null || Number(ns) <= 0) return null;
  return Math.round((Number(tokens) * NS_PER_SECOND * 1000) / Number(ns)) / 1000;
}

/** The throughput of each of `ids` (machines without a delivered job are absent). */
export async function machineThroughput(
  db: Kysely<Database>,
  ids: string[],
): Promise<Map<string, Throughput>> {
  if (ids.length === 0) return new Map();
  const withTokens = sql`completion_tokens IS NOT NULL`;
  const rows = await db
    .selectFrom("jobs")
    .select([
      "machine_id",
      sql<string>`count(*)`.as("jobs_delivered"),
      sql<string>`coalesce(sum(prompt_tokens), 0)`.as("prompt_tokens"),
      sql<string>`coalesce(sum(completion_tokens), 0)`.as("completion_tokens"),
      sql<string | null>`sum(delivered_at - accepted_at) FILTER (WHERE ${withTokens})`.as(
        "delivery_ns",
      ),
    ])
    .where("machine_id", "in", ids)
    .where("delivered_at", "is not", null)
    .groupBy("machine_id")
    .execute();
  return new Map(
    rows.map((r) => [
      r.machine_id,
      {
        jobs_delivered: Number(r.jobs_delivered),
        prompt_tokens: r.prompt_tokens,
        completion_tokens: r.completion_tokens,
        tokens_per_second: rate(r.completion_tokens, r.delivery_ns),
      },
    ]),
  );
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
