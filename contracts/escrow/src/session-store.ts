/** Session records by id and their indexes (by client and payer, by provider). */
import { fail } from "../../common/src/errors.ts";
import type { Session, SessionStatus } from "../../common/src/escrow-types.ts";
import { readRecord, writeRecord } from "../../common/src/store.ts";
import { parseU64 } from "../../common/src/u128.ts";
import { clientSessions, providerSessions, sessionKey } from "./keys.ts";

export function parseSessionId(value: unknown, field: string): string {
  return parseU64(value, field).toString();
}

export function getSession(id: string): Session | null {
  return readRecord<Session>(sessionKey(id));
}

export function requireSession(id: string): Session {
  return getSession(id) ?? fail(`unknown session ${id}`);
}

export function insertSession(session: Session): void {
  writeRecord(sessionKey(session.id), session);
  clientSessions(session.client).add(session.id);
  if (session.payer !== session.client) {
    clientSessions(session.payer).add(session.id);
  }
  providerSessions(session.provider).add(session.id);
}

export function saveSession(session: Session): void {
  writeRecord(sessionKey(session.id), session);
}

export function requireSessionStatus(
  session: Session,
  allowed: readonly SessionStatus[],
  action: string,
): void {
  if (!allowed.includes(session.status)) {
    fail(`session ${session.id} is ${session.status}; ${action} needs it ${allowed.join(" or ")}`);
  }
}

export function sessionsByIds(ids: string[]): Session[] {
  const out: Session[] = [];
  for (const id of ids) {
    const session = getSession(id);
    if (session !== null) {
      out.push(session);
    }
  }
  return out;
}
