/**
 * The sessions the agent serves: one JSON file per session (sessions/<id>.json), replaced
 * atomically and fsync'd before the agent answers anything that depends on it. What a request
 * changes is written twice: the voucher and its nonce before the backend sees the request (so a
 * nonce is never served twice, even across a crash), then `charged` and the signed receipt before
 * the receipt is sent (so the agent never signs for more than it can claim).
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { SessionStatus } from "@gpu-market/common/src/escrow-types.ts";
import type { SessionReceipt, SignedVoucher } from "@gpu-market/protocol";
import { ensureDir, removeDurably, removeTemporaries, writeAtomic } from "./files.ts";

export interface SessionRecord {
  id: string;
  /** Snapshots the escrow took at open (they never change). */
  machine_id: string;
  client: string;
  payer: string;
  client_key: string;
  machine_public_key: string;
  encryption_key: string;
  keyset_sha256: string;
  price_per_unit: string;
  budget: string;
  asset: string;
  /** Block time (ns) after which the client may close. */
  expires_at: string;
  /** The session's cumulative cost: the `charged` of the last receipt signed. */
  charged: string;
  /** The highest voucher nonce seen ("0": none). */
  nonce: string;
  /** The voucher of that nonce: what the agent claims with. */
  voucher: SignedVoucher | null;
  requests: number;
  last_receipt: { receipt: SessionReceipt; signature: string } | null;
  /** The client asked to close (POST /close): the agent closes at its next step. */
  close_requested: boolean;
  /** The escrow's view, as last read or learned from an event or call. */
  status: SessionStatus;
  closed_by: "provider" | "client" | null;
  /** The voucher the escrow recorded: amount and nonce. */
  claimed: string;
  claimed_nonce: string;
  dispute_deadline: string | null;
  arbitration_deadline: string | null;
  provider_payout: string | null;
  fee: string | null;
  client_refund: string | null;
  /** Milliseconds since the epoch of steps (seen, first_request, close_sent, settled, ...). */
  times: Record<string, number>;
}

const SESSION_ID = /^(0|[1-9][0-9]{0,19})$/;
const STATUSES: readonly SessionStatus[] = ["open", "closing", "disputed", "settled", "resolved"];

export function isFinished(record: SessionRecord): boolean {
  return record.status === "settled" || record.status === "resolved";
}

function parseRecord(text: string, path: string): SessionRecord {
  const value = JSON.parse(text) as SessionRecord;
  if (
    typeof value !== "object" ||
    value === null ||
    typeof value.id !== "string" ||
    !SESSION_ID.test(value.id) ||
    !STATUSES.includes(value.status) ||
    typeof value.charged !== "string" ||
    typeof value.nonce !== "string"
  ) {
    throw new Error(`${path}: not a session record`);
  }
  return value;
}

export class SessionStore {
  readonly dir: string;
  #sessions = new Map<string, SessionRecord>();

  constructor(dataDir: string) {
    this.dir = join(dataDir, "sessions");
    ensureDir(this.dir);
    removeTemporaries(this.dir);
    for (const entry of readdirSync(this.dir)) {
      if (!entry.endsWith(".json")) continue;
      const path = join(this.dir, entry);
      const record = parseRecord(readFileSync(path, "utf8"), path);
      this.#sessions.set(record.id, record);
    }
  }

  get(id: string): SessionRecord | undefined {
    const record = this.#sessions.get(id);
    return record === undefined ? undefined : structuredClone(record);
  }

  all(): SessionRecord[] {
    return [...this.#sessions.values()]
      .map((r) => structuredClone(r))
      .sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1));
  }

  /** Sessions not yet settled or resolved, oldest first. */
  unfinished(): SessionRecord[] {
    return this.all().filter((r) => !isFinished(r));
  }

  /** Durably records `record` (replacing the previous one). */
  put(record: SessionRecord): SessionRecord {
    if (!SESSION_ID.test(record.id)) {
      throw new Error(`internal: session id "${record.id}" is not a u64`);
    }
    writeAtomic(this.dir, `${record.id}.json`, `${JSON.stringify(record)}\n`);
    this.#sessions.set(record.id, structuredClone(record));
    return record;
  }

  /** Forgets a settled or resolved session (retention.ts): its record leaves the disk, durably. */
  remove(id: string): void {
    const record = this.#sessions.get(id);
    if (record === undefined) return;
    if (!isFinished(record)) {
      throw new Error(`internal: session ${id} is ${record.status}; it cannot be removed`);
    }
    removeDurably(this.dir, `${id}.json`);
    this.#sessions.delete(id);
  }

  /** Applies `changes` to session `id` durably, stamping `step` with the time when given. */
  update(id: string, changes: Partial<SessionRecord>, step?: string): SessionRecord {
    const current = this.#sessions.get(id);
    if (current === undefined) throw new Error(`internal: session ${id} is not in the store`);
    const next: SessionRecord = {
      ...structuredClone(current),
      ...changes,
      times: { ...current.times, ...(step === undefined ? {} : { [step]: Date.now() }) },
    };
    return this.put(next);
  }
}
