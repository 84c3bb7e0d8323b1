/**
 * Collateral cached on disk per platform (FMSPC and PCK CA), so that quotes are not each sent
 * to a PCCS or Intel PCS (slow and rate-limited) and a restart keeps what was fetched. An entry
 * is served until it is due for a refresh: `refreshBeforeMs` before the earliest nextUpdate of
 * its parts (TCB info, QE identity, PCK CRL, root CA CRL), or once older than `maxAgeMs` (Intel
 * publishes new TCB levels and revocations before the old collateral expires). A refresh that
 * fails keeps serving the entry while it is still valid; once it is not, the error says what
 * expired when and why it could not be refreshed. These errors are plain Errors (not verdicts):
 * the service retries them.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseCrl } from "./certs.ts";
import { type Collateral, collateralToJson, parseCollateral } from "./collateral.ts";
import { parseQeIdentity, parseTdxTcbInfo } from "./tcb-info.ts";

export type PckCa = "platform" | "processor";

/** Where fresh collateral comes from (a PccsClient). */
export interface CollateralSource {
  collateral(fmspc: string, ca: PckCa): Promise<Collateral>;
}

export interface CollateralCacheOptions {
  /** The folder holding one JSON file per platform. */
  dir: string;
  source: CollateralSource;
  /** Names the source in errors, e.g. the PCCS URL. */
  sourceName: string;
  /** Default: the wall clock. */
  clock?: () => Date;
  /** Refresh this long before the earliest nextUpdate; default 1 day. */
  refreshBeforeMs?: number;
  /** Refresh entries fetched longer ago than this; default 12 hours. */
  maxAgeMs?: number;
  /** After a failed refresh, serve the still-valid entry this long before trying again; default 5 minutes. */
  retryAfterMs?: number;
  /** Told about refreshes and failed refreshes. */
  log?: (record: { event: string } & Record<string, unknown>) => void;
}

/** Collateral could not be had for a platform: none cached, or expired, and the source failed. */
export class CollateralUnavailableError extends Error {
  readonly code = "collateral_unavailable";

  constructor(message: string) {
    super(message);
    this.name = "CollateralUnavailableError";
  }
}

/** The earliest nextUpdate among a collateral's parts, and which part it is. */
export interface CollateralExpiry {
  nextUpdate: Date;
  part: string;
}

export function collateralExpiry(c: Collateral): CollateralExpiry {
  const parts: CollateralExpiry[] = [
    { part: "TCB info", nextUpdate: parseTdxTcbInfo(c.tcbInfo).nextUpdate },
    { part: "QE identity", nextUpdate: parseQeIdentity(c.qeIdentity).nextUpdate },
  ];
  for (const [part, der] of [
    ["PCK CRL", c.pckCrl],
    ["root CA CRL", c.rootCaCrl],
  ] as const) {
    const nextUpdate = parseCrl(der, part).nextUpdate;
    if (nextUpdate === undefined) {
      throw new Error(`${part} has no nextUpdate`);
    }
    parts.push({ part, nextUpdate });
  }
  return parts.reduce((a, b) => (b.nextUpdate < a.nextUpdate ? b : a));
}

interface Entry {
  collateral: Collateral;
  expiry: CollateralExpiry;
  fetchedAt: Date;
}

const DAY_MS = 86_400_000;

export class CollateralCache implements CollateralSource {
  private readonly options: CollateralCacheOptions;
  private readonly entries = new Map<string, Entry>();
  private readonly pending = new Map<string, Promise<Collateral>>();
  private readonly failedAt = new Map<string, number>();

  constructor(options: CollateralCacheOptions) {
    this.options = options;
    mkdirSync(options.dir, { recursive: true });
  }

  /** The file an entry is kept in. */
  path(fmspc: string, ca: PckCa): string {
    return join(this.options.dir, `tdx-${fmspc}-${ca}.json`);
  }

  collateral(fmspc: string, ca: PckCa): Promise<Collateral> {
    if (!/^[0-9a-f]{12}$/.test(fmspc) || (ca !== "platform" && ca !== "processor")) {
      return Promise.reject(new Error(`collateral cache: bad platform key ${fmspc}/${ca}`));
    }
    const key = `${fmspc}-${ca}`;
    const running = this.pending.get(key);
    if (running !== undefined) {
      return running;
    }
    const lookup = this.lookup(fmspc, ca).finally(() => this.pending.delete(key));
    this.pending.set(key, lookup);
    return lookup;
  }

  private async lookup(fmspc: string, ca: PckCa): Promise<Collateral> {
    const key = `${fmspc}-${ca}`;
    const now = this.options.clock?.() ?? new Date();
    const cached = this.entries.get(key) ?? this.load(fmspc, ca);
    if (cached !== null && !this.due(key, cached, now)) {
      return cached.collateral;
    }
    const what = `collateral for FMSPC ${fmspc} (${ca} CA)`;
    let fetched: Entry;
    try {
      fetched = await this.fetch(fmspc, ca, now);
    } catch (error) {
      const reason = (error as Error).message;
      if (cached !== null && now <= cached.expiry.nextUpdate) {
        this.failedAt.set(key, now.getTime());
        this.options.log?.({
          event: "collateral_refresh_failed",
          fmspc,
          ca,
          error: reason,
          serving_until: cached.expiry.nextUpdate.toISOString(),
        });
        return cached.collateral;
      }
      throw new CollateralUnavailableError(
        cached === null
          ? `${what}: none cached in ${this.options.dir} and ${this.options.sourceName} failed: ${reason}`
          : `${what} in ${this.path(fmspc, ca)} expired at ${cached.expiry.nextUpdate.toISOString()} ` +
              `(${cached.expiry.part} nextUpdate) and could not be refreshed from ` +
              `${this.options.sourceName}: ${reason}`,
      );
    }
    this.entries.set(key, fetched);
    this.failedAt.delete(key);
    this.save(fmspc, ca, fetched);
    this.options.log?.({
      event: "collateral_refreshed",
      fmspc,
      ca,
      next_update: fetched.expiry.nextUpdate.toISOString(),
      expiring_part: fetched.expiry.part,
    });
    return fetched.collateral;
  }

  private due(key: string, entry: Entry, now: Date): boolean {
    const t = now.getTime();
    if (t > entry.expiry.nextUpdate.getTime()) {
      return true;
    }
    const failed = this.failedAt.get(key);
    if (failed !== undefined && t - failed < (this.options.retryAfterMs ?? 300_000)) {
      return false;
    }
    return (
      t >= entry.expiry.nextUpdate.getTime() - (this.options.refreshBeforeMs ?? DAY_MS) ||
      t - entry.fetchedAt.getTime() >= (this.options.maxAgeMs ?? DAY_MS / 2)
    );
  }

  private async fetch(fmspc: string, ca: PckCa, now: Date): Promise<Entry> {
    const collateral = await this.options.source.collateral(fmspc, ca);
    let expiry: CollateralExpiry;
    try {
      expiry = collateralExpiry(collateral);
    } catch (error) {
      throw new Error(`unreadable collateral (${(error as Error).message})`);
    }
    if (now > expiry.nextUpdate) {
      throw new Error(
        `it served collateral already expired (${expiry.part} nextUpdate ${expiry.nextUpdate.toISOString()})`,
      );
    }
    return { collateral, expiry, fetchedAt: now };
  }

  /** The entry kept on disk, or null when there is none or it is unreadable (then refetched). */
  private load(fmspc: string, ca: PckCa): Entry | null {
    let text: string;
    try {
      text = readFileSync(this.path(fmspc, ca), "utf8");
    } catch {
      return null;
    }
    try {
      const file = JSON.parse(text) as { fetched_at?: unknown; collateral?: unknown };
      const fetchedAt = new Date(String(file.fetched_at));
      if (Number.isNaN(fetchedAt.getTime())) {
        throw new Error("fetched_at is not a date");
      }
      const collateral = parseCollateral(file.collateral);
      const entry = { collateral, expiry: collateralExpiry(collateral), fetchedAt };
      this.entries.set(`${fmspc}-${ca}`, entry);
      return entry;
    } catch (error) {
      this.options.log?.({
        event: "collateral_cache_unreadable",
        file: this.path(fmspc, ca),
        error: (error as Error).message,
      });
      return null;
    }
  }

  private save(fmspc: string, ca: PckCa, entry: Entry): void {
    const path = this.path(fmspc, ca);
    const file = {
      fmspc,
      ca,
      fetched_at: entry.fetchedAt.toISOString(),
      next_update: entry.expiry.nextUpdate.toISOString(),
      expiring_part: entry.expiry.part,
      collateral: collateralToJson(entry.collateral),
    };
    // Written aside then renamed: a crash never leaves a half-written entry.
    const temporary = `${path}.${process.pid}.tmp`;
    writeFileSync(temporary, `${JSON.stringify(file, null, 2)}\n`);
    renameSync(temporary, path);
  }
}
