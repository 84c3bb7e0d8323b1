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

export function getJob(id: string): Job | null {
  return readRecord<Job>(jobKey(id));
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
