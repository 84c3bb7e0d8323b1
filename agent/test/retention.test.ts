/**
 * Retention: finished jobs and settled sessions past the period leave the data dir with the
 * files only they named; anything unfinished, recent, or still named by a kept job stays, and a
 * restart sees the pruned state.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sha256Hex } from "@gpu-market/protocol";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Blobs } from "../src/store/blobs.ts";
import { Journal } from "../src/store/journal.ts";
import { DAY_MS, pruneFinished } from "../src/store/retention.ts";
import { type SessionRecord, SessionStore } from "../src/store/sessions.ts";
import { jobRecord as job } from "./support/records.ts";

const NOW = Date.parse("2026-12-03T12:00:00Z");
const RETAIN = 30 * DAY_MS;
const daysAgo = (days: number) => NOW - days * DAY_MS;

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "agent-retention-"));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function stores() {
  return { journal: new Journal(dir), sessions: new SessionStore(dir), blobs: new Blobs(dir) };
}

/** Stores `text` as an envelope and returns its hash. */
function envelope(blobs: Blobs, text: string): string {
  return blobs.putEnvelope(new TextEncoder().encode(text));
}

/** Stores a finished response file of `text` and returns its hash. */
function response(blobs: Blobs, jobId: string, text: string): string {
  const file = blobs.startResponse(jobId);
  file.append(new TextEncoder().encode(text));
  return file.finish();
}

function session(id: string, status: SessionRecord["status"], lastStepAt: number): SessionRecord {
  return {
    id,
    machine_id: "0",
    client: "alice.test.near",
    payer: "alice.test.near",
    client_key: "ed25519:11111111111111111111111111111111",
    machine_public_key: "ed25519:11111111111111111111111111111111",
    encryption_key: `x25519:${"11".repeat(32)}`,
    keyset_sha256: "cd".repeat(32),
    price_per_unit: "1",
    budget: "1000",
    asset: "NEAR",
    expires_at: "0",
    charged: "10",
    nonce: "2",
    voucher: null,
    requests: 2,
    last_receipt: null,
    close_requested: false,
    status,
    closed_by: status === "open" ? null : "provider",
    claimed: "10",
    claimed_nonce: "2",
    dispute_deadline: null,
    arbitration_deadline: null,
    provider_payout: null,
    fee: null,
    client_refund: null,
    times: { seen: lastStepAt - 60_000, last: lastStepAt },
  };
}

describe("pruning finished work", () => {
  it("removes finished jobs and settled sessions past the period with their files; keeps the rest; a restart agrees", () => {
    const { journal, sessions, blobs } = stores();
    const oldEnvelope = envelope(blobs, "old delivered request");
    const oldResponse = response(blobs, "1", "old delivered answer\n");
    journal.put(job("1", "delivered", daysAgo(40), oldEnvelope, oldResponse));
    // Job 2 failed long ago, but job 3 (still waiting, however old) names the same envelope.
    const shared = envelope(blobs, "shared request");
    journal.put(job("2", "failed", daysAgo(45), shared));
    journal.put(job("3", "waiting", daysAgo(45), shared));
    // Closed ten days ago: within the period.
    const recentEnvelope = envelope(blobs, "recent request");
    journal.put(job("4", "closed", daysAgo(10), recentEnvelope));
    // Running for 50 days (a stuck backend): never pruned.
    const runningEnvelope = envelope(blobs, "running request");
    journal.put(job("5", "running", daysAgo(50), runningEnvelope));
    sessions.put(session("1", "settled", daysAgo(31)));
    sessions.put(session("2", "closing", daysAgo(60)));
    sessions.put(session("3", "resolved", daysAgo(2)));
    sessions.put(session("4", "disputed", daysAgo(40)));

    const pruned = pruneFinished({ journal, sessions, blobs }, RETAIN, NOW);
    const oldBytes =
      new TextEncoder().encode("old delivered request").length +
      new TextEncoder().encode("old delivered answer\n").length;
    expect(pruned).toEqual({ jobs: 2, sessions: 1, files: 2, bytes: oldBytes });

    expect(journal.all().map((r) => r.id)).toEqual(["3", "4", "5"]);
    expect(sessions.all().map((r) => r.id)).toEqual(["2", "3", "4"]);
    expect(blobs.hasEnvelope(oldEnvelope)).toBe(false);
    expect(blobs.hasResponse(oldResponse)).toBe(false);
    expect(blobs.hasEnvelope(shared)).toBe(true);
    expect(blobs.hasEnvelope(recentEnvelope)).toBe(true);
    expect(blobs.hasEnvelope(runningEnvelope)).toBe(true);
    expect(existsSync(join(dir, "jobs", "1.json"))).toBe(false);
    expect(existsSync(join(dir, "sessions", "1.json"))).toBe(false);

    // A restart reads the same: the records left the disk, not only the memory.
    const again = stores();
    expect(again.journal.all().map((r) => r.id)).toEqual(["3", "4", "5"]);
    expect(again.sessions.all().map((r) => r.id)).toEqual(["2", "3", "4"]);
    expect(pruneFinished(again, RETAIN, NOW)).toEqual({ jobs: 0, sessions: 0, files: 0, bytes: 0 });
  });

  it("the last job naming a file takes it along when it expires", () => {
    const { journal, sessions, blobs } = stores();
    const shared = envelope(blobs, "asked twice");
    journal.put(job("7", "closed", daysAgo(40), shared));
    journal.put(job("8", "failed", daysAgo(20), shared));
    expect(pruneFinished({ journal, sessions, blobs }, RETAIN, NOW)).toMatchObject({
      jobs: 1,
      files: 0,
    });
    expect(blobs.hasEnvelope(shared)).toBe(true);
    // Eleven days later job 8 is past the period too.
    expect(pruneFinished({ journal, sessions, blobs }, RETAIN, NOW + 11 * DAY_MS)).toMatchObject({
      jobs: 1,
      files: 1,
    });
    expect(blobs.hasEnvelope(shared)).toBe(false);
    expect(sha256Hex(new TextEncoder().encode("asked twice"))).toBe(shared);
  });

  it("refuses to remove an unfinished job or session", () => {
    const { journal, sessions, blobs } = stores();
    journal.put(job("9", "accepted", daysAgo(40), envelope(blobs, "accepted")));
    sessions.put(session("9", "open", daysAgo(40)));
    expect(() => journal.remove("9")).toThrow("job 9 is accepted, not finished");
    expect(() => sessions.remove("9")).toThrow("session 9 is open");
    expect(journal.has("9")).toBe(true);
    expect(sessions.get("9")).toBeDefined();
  });
});
