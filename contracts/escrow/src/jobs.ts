/** Job records by id and their indexes (by client and payer, provider, machine, status). */

import { fail } from "../../common/src/errors.ts";
import type { Job, JobStatus } from "../../common/src/escrow-types.ts";
import { readRecord, writeRecord } from "../../common/src/store.ts";
import { parseU64 } from "../../common/src/u128.ts";
import { clientJobs, jobKey, machineJobs, providerJobs, statusJobs } from "./keys.ts";

export const JOB_STATUSES: readonly JobStatus[] = [
  "requested",
  "accepted",
  "delivered",
  "disputed",
  "settled",
  "resolved",
  "refunded",
];

export function parseJobId(value: unknown, field: string): string {
  return parseU64(value, field).toString();
}

/**
 * The fields escrow version 2 added to jobs. Records stored by version 1 lack them and are read as
 * null: such a job has no keyset snapshot, yet it can be accepted, delivered with a version-2
 * receipt (which does not involve the keyset), failed, settled and refunded like any other.
 */
const V2_FIELDS = {
  keyset_sha256: null,
  encryption_key: null,
  model_name: null,
  prompt_tokens: null,
  completion_tokens: null,
  chunks: null,
  failure_code: null,
} as const;

export function getJob(id: string): Job | null {
  const stored = readRecord<Job>(jobKey(id));
  return stored === null ? null : { ...V2_FIELDS, ...stored };
}

export function requireJob(id: string): Job {
  return getJob(id) ?? fail(`unknown job ${id}`);
}

/** Stores a new job and adds it to every index. */
export function insertJob(job: Job): void {
  writeRecord(jobKey(job.id), job);
  clientJobs(job.client).add(job.id);
  if (job.payer !== job.client) {
    clientJobs(job.payer).add(job.id);
  }
  providerJobs(job.provider).add(job.id);
  machineJobs(job.machine_id).add(job.id);
  statusJobs(job.status).add(job.id);
}

/** Saves `job` after a transition from `from`, moving it between status indexes. */
export function saveJob(job: Job, from: JobStatus): void {
  writeRecord(jobKey(job.id), job);
  if (from !== job.status) {
    statusJobs(from).remove(job.id);
    statusJobs(job.status).add(job.id);
  }
}

export function requireStatus(job: Job, allowed: readonly JobStatus[], action: string): void {
  if (!allowed.includes(job.status)) {
    fail(`job ${job.id} is ${job.status}; ${action} needs it ${allowed.join(" or ")}`);
  }
}

export function jobsByIds(ids: string[]): Job[] {
  const out: Job[] = [];
  for (const id of ids) {
    const job = getJob(id);
    if (job !== null) {
      out.push(job);
    }
  }
  return out;
}

/** Jobs by id order, from `from` (ids are dense from 0). */
export function listJobs(nextId: bigint, from: number, limit: number): Job[] {
  const ids: string[] = [];
  for (let i = BigInt(from); i < nextId && ids.length < limit; i++) {
    ids.push(i.toString());
  }
  return jobsByIds(ids);
}
