/**
 * The client's sessions on disk: one file per session under
 * <stateDir>/sessions/<escrow>/<client>/<id>.json (mode 0600, folders 0700) holding the session
 * key's secret, the session's snapshot, what the verified receipts charged and the highest nonce
 * signed, and each verified receipt in <id>.receipts.ndjson (the evidence a dispute rests on).
 * A key is written to pending-<public key>.json before open_session is sent, so an open whose
 * answer is lost never loses its key. Files are replaced atomically (write, fsync, rename).
 */
import {
  appendFileSync,
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import type { ModelEntry, SessionReceipt } from "@gpu-market/protocol";
import { clientError } from "./errors.ts";

export const SESSION_STATE_VERSION = "gpumarket/v1/client-session";

export type LocalSessionStatus = "opening" | "open" | "closing" | "disputed" | "closed";

export interface SessionClose {
  status: "closing" | "disputed" | "settled" | "resolved";
  claimed: string;
  provider_payout: string | null;
  fee: string | null;
  refund: string | null;
  dispute_deadline: string | null;
  tx_hashes: Record<string, string>;
}

export interface SessionState {
  version: typeof SESSION_STATE_VERSION;
  escrow: string;
  client: string;
  /** Null until open_session has answered. */
  session_id: string | null;
  client_key: string;
  /** The session key's ed25519 secret (64 hex). Never leaves this file. */
  client_secret: string;
  machine_id: string;
  provider: string;
  endpoint: string;
  keyset_sha256: string;
  encryption_key: string;
  machine_public_key: string;
  models: ModelEntry[];
  asset: string;
  budget: string;
  price_per_unit: string;
  /** Block time (ns) from which the client may close on its own. */
  expires_at: string | null;
  /** What the machine's verified receipts have charged so far. */
  charged: string;
  /** The highest voucher nonce signed (a nonce is never signed twice). */
  nonce: string;
  requests: number;
  status: LocalSessionStatus;
  /** Set when a receipt did not check out: no more vouchers are signed for this session. */
  suspect: string | null;
  close: SessionClose | null;
  tx_hashes: Record<string, string>;
}

export function defaultStateDir(): string {
  return join(homedir(), ".gpu-market", "client");
}

function writeAtomic(dir: string, name: string, text: string): void {
  const temp = join(dir, `${name}.${process.pid}.tmp`);
  const fd = openSync(temp, "w", 0o600);
  try {
    const data = Buffer.from(text, "utf8");
    let written = 0;
    while (written < data.length) written += writeSync(fd, data, written);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, join(dir, name));
}

const SESSION_ID = /^(0|[1-9][0-9]{0,19})$/;

export class SessionFiles {
  readonly dir: string;

  constructor(stateDir: string, escrow: string, client: string) {
    this.dir = join(stateDir, "sessions", escrow, client);
  }

  #ensure(): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
  }

  #pendingName(state: SessionState): string {
    return `pending-${state.client_key.slice("ed25519:".length)}.json`;
  }

  /** Saves the state: under its id once open, else as a pending key. */
  save(state: SessionState): void {
    this.#ensure();
    const name = state.session_id === null ? this.#pendingName(state) : `${state.session_id}.json`;
    writeAtomic(this.dir, name, `${JSON.stringify(state, null, 2)}\n`);
    if (state.session_id !== null)
      rmSync(join(this.dir, this.#pendingName(state)), { force: true });
  }

  /** Forgets a pending key whose open was refused (nothing was escrowed under it). */
  dropPending(state: SessionState): void {
    rmSync(join(this.dir, this.#pendingName(state)), { force: true });
  }

  load(id: string): SessionState {
    if (!SESSION_ID.test(id)) clientError("bad_input", `session: "${id}" is not a session id`);
    const path = join(this.dir, `${id}.json`);
    if (!existsSync(path)) {
      clientError(
        "bad_input",
        `no key for session ${id} in ${this.dir}: only the client that opened it can use it`,
      );
    }
    return this.#parse(path);
  }

  #parse(path: string): SessionState {
    let value: SessionState;
    try {
      value = JSON.parse(readFileSync(path, "utf8")) as SessionState;
    } catch (error) {
      return clientError("bad_input", `${path}: not a session file (${(error as Error).message})`);
    }
    if (value?.version !== SESSION_STATE_VERSION || typeof value.client_secret !== "string") {
      clientError("bad_input", `${path}: not a session file of this client`);
    }
    return value;
  }

  /** Every session this client holds a key for (pending ones included), by id. */
  list(): SessionState[] {
    if (!existsSync(this.dir)) return [];
    return readdirSync(this.dir)
      .filter((name) => name.endsWith(".json"))
      .map((name) => this.#parse(join(this.dir, name)))
      .sort((a, b) => Number(BigInt(a.session_id ?? "0") - BigInt(b.session_id ?? "0")));
  }

  appendReceipt(id: string, receipt: SessionReceipt, signature: string): void {
    this.#ensure();
    const path = join(this.dir, `${id}.receipts.ndjson`);
    appendFileSync(path, `${JSON.stringify({ receipt, signature })}\n`, { mode: 0o600 });
  }

  receipts(id: string): { receipt: SessionReceipt; signature: string }[] {
    const path = join(this.dir, `${id}.receipts.ndjson`);
    if (!existsSync(path)) return [];
    return readFileSync(path, "utf8")
      .split("\n")
      .filter((line) => line !== "")
      .map((line) => JSON.parse(line) as { receipt: SessionReceipt; signature: string });
  }
}
