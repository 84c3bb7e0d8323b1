/**
 * The job journal: one JSON file per job (jobs/<id>.json), replaced atomically and fsync'd at each
 * step, so a crash at any point leaves every job in the last state it durably reached. The agent
 * writes the state it is about to enter before the chain call that enters it ("accepting" before
 * accept_job, "failing" before fail_job, "running" before the backend sees the request) and reads
 * the job on-chain on restart to learn which side of the call the crash fell on.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { DeliveryReceipt } from "@gpu-market/common/src/escrow-types.ts";
import type { FailureCode } from "@gpu-market/protocol";
import { ensureDir, removeDurably, removeTemporaries, writeAtomic } from "./files.ts";

export const LOCAL_STATES = [
  "waiting",
  "accepting",
  "accepted",
  "running",
  "sealed",
  "delivered",
  "failing",
  "failed",
  "closed",
] as const;
/**
 * waiting: ours and requested on-chain, no decision yet (no envelope, or not yet looked at).
 * accepting: accept_job is being sent. accepted: accepted on-chain, waiting for a backend slot.
 * running: the backend has the request; never retried (the response key and frame nonces are fixed
 * per request, so a second stream must not reuse them). sealed: the response file is complete and
 * the receipt signed; deliver_job is being sent. failing: fail_job is being sent.
 * delivered, failed, closed (cancelled, reclaimed or let expire): nothing more to do.
 */
export type LocalState = (typeof LOCAL_STATES)[number];
export const TERMINAL_STATES: readonly LocalState[] = ["delivered", "failed", "closed"];

export interface Delivery {
  receipt: DeliveryReceipt;
  signature: string;
}

export interface JobRecord {
  id: string;
  machine_id: string;
  client: string;
  model_hash: string;
  input_hash: string;
  keyset_sha256: string;
  encryption_key: string;
  machine_public_key: string;
  /** Block timestamps in nanoseconds (u64 decimal strings). */
  accept_deadline: string;
  deliver_deadline: string | null;
  state: LocalState;
  /** The envelope whose sha256 is input_hash is stored. */
  envelope: boolean;
  failure_code: FailureCode | null;
  /** Why a job closed without a delivery or a failure of ours. */
  closed_reason: string | null;
  delivery: Delivery | null;
  /** Milliseconds since the epoch at which each step was reached (seen, envelope, accepted, ...). */
  times: Record<string, number>;
}

const JOB_ID = /^(0|[1-9][0-9]{0,19})$/;

export function isTerminal(state: LocalState): boolean {
  return TERMINAL_STATES.includes(state);
}

function parseRecord(text: string, path: string): JobRecord {
  const value = JSON.parse(text) as JobRecord;
  if (
    typeof value !== "object" ||
    value === null ||
    typeof value.id !== "string" ||
    !JOB_ID.test(value.id) ||
    !LOCAL_STATES.includes(value.state) ||
    typeof value.input_hash !== "string"
  ) {
    throw new Error(`${path}: not a job record`);
  }
  return value;
}

export class Journal {
  readonly dir: string;
  #jobs = new Map<string, JobRecord>();

  constructor(dataDir: string) {
    this.dir = join(dataDir, "jobs");
    ensureDir(this.dir);
    removeTemporaries(this.dir);
    for (const entry of readdirSync(this.dir)) {
      if (!entry.endsWith(".json")) continue;
      const path = join(this.dir, entry);
      const record = parseRecord(readFileSync(path, "utf8"), path);
      this.#jobs.set(record.id, record);
    }
  }

  get(id: string): JobRecord | undefined {
    const record = this.#jobs.get(id);
    return record === undefined ? undefined : structuredClone(record);
  }

  has(id: string): boolean {
    return this.#jobs.has(id);
  }

  all(): JobRecord[] {
    return [...this.#jobs.values()].map((r) => structuredClone(r));
  }

  /** How many jobs are in one of `states`. */
  count(states: readonly LocalState[]): number {
    let n = 0;
    for (const record of this.#jobs.values()) if (states.includes(record.state)) n++;
    return n;
  }

  /** Jobs with something left to do, oldest first. */
  open(): JobRecord[] {
    return [...this.#jobs.values()]
      .filter((r) => !isTerminal(r.state))
      .map((r) => structuredClone(r))
      .sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1));
  }

  /** Durably records `record` (the whole record replaces the previous one). */
  put(record: JobRecord): JobRecord {
    if (!JOB_ID.test(record.id)) {
      throw new Error(`internal: job id "${record.id}" is not a u64`);
    }
    writeAtomic(this.dir, `${record.id}.json`, `${JSON.stringify(record)}\n`);
    this.#jobs.set(record.id, structuredClone(record));
    return record;
  }

  /** Forgets a finished job (retention.ts): its record leaves the disk, durably. */
  remove(id: string): void {
    const record = this.#jobs.get(id);
    if (record === undefined) return;
    if (!isTerminal(record.state)) {
      throw new Error(`internal: job ${id} is ${record.state}, not finished; it cannot be removed`);
    }
    removeDurably(this.dir, `${id}.json`);
    this.#jobs.delete(id);
  }

  /** Moves a job to `state` with the changes given, stamping the time of the step. */
  step(
    id: string,
    state: LocalState,
    changes: Partial<JobRecord> = {},
    now = Date.now(),
  ): JobRecord {
    const current = this.#jobs.get(id);
    if (current === undefined) {
      throw new Error(`internal: job ${id} is not in the journal`);
    }
    const next: JobRecord = {
      ...structuredClone(current),
      ...changes,
      state,
      times: { ...current.times, ...(changes.times ?? {}), [state]: now },
    };
    return this.put(next);
  }

  static exists(dataDir: string): boolean {
    return existsSync(join(dataDir, "jobs"));
  }
}
