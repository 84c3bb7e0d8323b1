/**
 * Keeps the data dir bounded: jobs that finished (delivered, failed, closed) and sessions settled
 * or resolved more than the retention period ago leave the journal, with the envelopes and
 * response files no kept job still names. Until then a client can still read a job's status and
 * fetch its answer. Nothing unfinished is ever removed, whatever its age.
 */
import type { Blobs } from "./blobs.ts";
import { isTerminal, type Journal } from "./journal.ts";
import { isFinished, type SessionStore } from "./sessions.ts";

export const DAY_MS = 86_400_000;

export interface Pruned {
  jobs: number;
  sessions: number;
  files: number;
  bytes: number;
}

/** The time of a record's last step (ms since the epoch); null when it has none. */
function lastStep(times: Record<string, number>): number | null {
  const values = Object.values(times).filter((t) => Number.isFinite(t));
  return values.length === 0 ? null : Math.max(...values);
}

function finishedBefore(times: Record<string, number>, cutoff: number): boolean {
  const last = lastStep(times);
  return last !== null && last < cutoff;
}

export function pruneFinished(
  stores: { journal: Journal; sessions: SessionStore; blobs: Blobs },
  retainMs: number,
  now = Date.now(),
): Pruned {
  const { journal, sessions, blobs } = stores;
  const cutoff = now - retainMs;
  const pruned: Pruned = { jobs: 0, sessions: 0, files: 0, bytes: 0 };

  const jobs = journal.all();
  const expired = jobs.filter((r) => isTerminal(r.state) && finishedBefore(r.times, cutoff));
  const expiredIds = new Set(expired.map((r) => r.id));
  // Files are content-addressed: one still named by a kept job stays.
  const kept = jobs.filter((r) => !expiredIds.has(r.id));
  const keptEnvelopes = new Set(kept.map((r) => r.input_hash));
  const keptResponses = new Set(kept.map((r) => r.delivery?.receipt.response_sha256));
  for (const record of expired) {
    const files: ["envelope" | "response", string][] = [];
    if (!keptEnvelopes.has(record.input_hash)) files.push(["envelope", record.input_hash]);
    const response = record.delivery?.receipt.response_sha256;
    if (response !== undefined && !keptResponses.has(response)) files.push(["response", response]);
    // The record goes last: a crash in between leaves files a later pass removes with it.
    for (const [kind, hash] of files) {
      const bytes = blobs.remove(kind, hash);
      if (bytes > 0) {
        pruned.files++;
        pruned.bytes += bytes;
      }
    }
    journal.remove(record.id);
    pruned.jobs++;
  }

  for (const record of sessions.all()) {
    if (isFinished(record) && finishedBefore(record.times, cutoff)) {
      sessions.remove(record.id);
      pruned.sessions++;
    }
  }
  return pruned;
}
