/**
 * The verifier service: watches the registry for pending evidence, checks it, posts a verdict
 * once per evidence, and logs every decision with its reasons. Failures that are not verdicts
 * (RPC, collateral fetch, evidence bytes not found yet, a failed post) are retried with
 * exponential backoff; a definite verdict is posted at most once, remembered in PostedStore.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { checkEvidence, SUPPORTED_TEE_TYPES, type TrustInputs } from "../check.ts";
import type { Policy } from "../policy.ts";
import type { PostedStore } from "./posted-store.ts";
import type { PendingEvidence, RegistryClient } from "./registry-client.ts";

export type LogRecord = Record<string, unknown> & { event: string };
export type Logger = (record: LogRecord) => void;

export const jsonLogger: Logger = (record) => {
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), ...record })}\n`);
};

export interface ServiceOptions {
  account: string;
  registry: RegistryClient;
  trust: Omit<TrustInputs, "now">;
  policy: Policy;
  posted: PostedStore;
  log: Logger;
  /** The time evidence is verified at; default: the wall clock. */
  now?: () => Date;
  retryBaseMs?: number;
  retryMaxMs?: number;
}

interface RetryState {
  failures: number;
  nextAt: number;
}

export class VerifierService {
  private readonly options: ServiceOptions;
  private readonly retries = new Map<string, RetryState>();
  private readonly skipped = new Set<string>();

  constructor(options: ServiceOptions) {
    this.options = options;
  }

  private now(): Date {
    return this.options.now?.() ?? new Date();
  }

  private retryLater(hash: string, error: unknown, context: Record<string, unknown>): void {
    const state = this.retries.get(hash) ?? { failures: 0, nextAt: 0 };
    state.failures++;
    const base = this.options.retryBaseMs ?? 2_000;
    const delay = Math.min(base * 2 ** (state.failures - 1), this.options.retryMaxMs ?? 300_000);
    state.nextAt = Date.now() + delay;
    this.retries.set(hash, state);
    this.options.log({
      event: "retry",
      ...context,
      attempt: state.failures,
      retry_in_ms: delay,
      error: (error as Error).message,
    });
  }

  /** Handles one pending evidence; returns true when a verdict was posted. */
  private async handle(pending: PendingEvidence): Promise<boolean> {
    const { log, account, registry, posted } = this.options;
    const context = { machine_id: pending.machineId, evidence_hash: pending.evidenceHash };
    if (posted.has(pending.evidenceHash) || pending.verifiers.includes(account)) {
      return false;
    }
    if (!SUPPORTED_TEE_TYPES.includes(pending.teeType)) {
      // Not a verdict: another verifier may be able to judge it.
      if (!this.skipped.has(pending.evidenceHash)) {
        this.skipped.add(pending.evidenceHash);
        log({
          event: "skipped",
          ...context,
          reason: `tee_type ${pending.teeType} is not supported`,
        });
      }
      return false;
    }
    const retry = this.retries.get(pending.evidenceHash);
    if (retry !== undefined && Date.now() < retry.nextAt) {
      return false;
    }
    try {
      const bytes = await registry.evidenceBytes(pending);
      if (bytes === null) {
        throw new Error("evidence bytes not found on chain (yet)");
      }
      const reportData = await registry.expectedReportData(pending.machineId, pending.evidenceHash);
      const verdict = await checkEvidence(
        bytes,
        { teeType: pending.teeType, reportData, nonce: pending.nonce },
        { ...this.options.trust, now: this.now() },
        this.options.policy,
      );
      log({
        event: "decision",
        ...context,
        provider: pending.provider,
        tee_type: pending.teeType,
        approve: verdict.approve,
        tcb_status: verdict.tcbStatus,
        advisory_ids: verdict.advisoryIds,
        reason: verdict.reason,
        measurements: verdict.measurements,
        checks: verdict.checks,
      });
      await registry.postVerdict({
        machine_id: pending.machineId,
        evidence_hash: pending.evidenceHash,
        approve: verdict.approve,
        measurements: verdict.measurements,
        tcb_status: verdict.tcbStatus,
        reason: verdict.reason.slice(0, 256),
      });
      posted.add(pending.evidenceHash);
      this.retries.delete(pending.evidenceHash);
      log({ event: "posted", ...context, approve: verdict.approve });
      return true;
    } catch (error) {
      this.retryLater(pending.evidenceHash, error, context);
      return false;
    }
  }

  /** One pass over the registry's pending evidence; returns how many verdicts were posted. */
  async tick(): Promise<number> {
    let pending: PendingEvidence[];
    try {
      pending = await this.options.registry.pendingEvidence();
    } catch (error) {
      this.options.log({ event: "poll_failed", error: (error as Error).message });
      return 0;
    }
    let count = 0;
    for (const item of pending) {
      if (await this.handle(item)) {
        count++;
      }
    }
    return count;
  }

  /** Polls every `intervalMs` until `signal` aborts. */
  async run(intervalMs: number, signal: AbortSignal): Promise<void> {
    this.options.log({ event: "started", account: this.options.account, interval_ms: intervalMs });
    while (!signal.aborted) {
      await this.tick();
      await sleep(intervalMs, undefined, { signal }).catch(() => undefined);
    }
    this.options.log({ event: "stopped" });
  }
}
