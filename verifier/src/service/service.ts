/**
 * The verifier service: watches the registry for pending evidence, checks it against the keyset it
 * attests (REPORTDATA from the registry, the GPU nonce from the keyset, whose hash is recomputed
 * here) and the registry's allowed TCB statuses, posts a verdict once per evidence, and logs every
 * decision with its reasons. Failures that are not verdicts (RPC, collateral fetch, evidence bytes
 * not found yet, a failed post, a registry whose keyset hash disagrees with ours) are retried with
 * exponential backoff; a definite verdict is posted at most once, remembered in PostedStore.
 */
import { setTimeout as sleep } from "node:timers/promises";
import {
  checkEvidence,
  type EvidenceVerdict,
  SUPPORTED_TEE_TYPES,
  type TrustInputs,
} from "../check.ts";
import type { Policy } from "../policy.ts";
import { gpuNonce, keysetSha256 } from "../report-data.ts";
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

/** What is logged and posted of a verdict. */
type Decision = Pick<
  EvidenceVerdict,
  "approve" | "tcbStatus" | "reason" | "advisoryIds" | "measurements" | "checks"
>;

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

  /**
   * The verdict on one pending evidence. Evidence that attests no keyset (submitted before
   * keysets) is rejected without looking at its bytes: nothing binds it to keys clients can use.
   */
  private async judge(pending: PendingEvidence, allowedTcbStatuses: string[]): Promise<Decision> {
    const { registry } = this.options;
    if (pending.keyset === null || pending.keysetSha256 === null) {
      const reason =
        `no_keyset: evidence ${pending.evidenceHash} attests no keyset (submitted before ` +
        "keysets); the provider must submit evidence with a keyset";
      return {
        approve: false,
        tcbStatus: "Unverified",
        reason,
        advisoryIds: [],
        measurements: null,
        checks: [],
      };
    }
    const computed = keysetSha256(pending.keyset);
    if (computed !== pending.keysetSha256) {
      throw new Error(
        `the registry bound the evidence to keyset ${pending.keysetSha256}, but the keyset it ` +
          `lists hashes to ${computed}`,
      );
    }
    const bytes = await registry.evidenceBytes(pending);
    if (bytes === null) {
      throw new Error("evidence bytes not found on chain (yet)");
    }
    const reportData = await registry.expectedReportData(pending.machineId, pending.evidenceHash);
    return checkEvidence(
      bytes,
      {
        teeType: pending.teeType,
        reportData,
        nonce: gpuNonce(computed, pending.nonce),
        allowedTcbStatuses,
      },
      { ...this.options.trust, now: this.now() },
      this.options.policy,
    );
  }

  /** Handles one pending evidence; returns true when a verdict was posted. */
  private async handle(pending: PendingEvidence, allowedTcbStatuses: string[]): Promise<boolean> {
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
      const verdict = await this.judge(pending, allowedTcbStatuses);
      log({
        event: "decision",
        ...context,
        provider: pending.provider,
        tee_type: pending.teeType,
        keyset_sha256: pending.keysetSha256,
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
    let allowedTcbStatuses: string[];
    try {
      pending = await this.options.registry.pendingEvidence();
      allowedTcbStatuses = await this.options.registry.allowedTcbStatuses();
    } catch (error) {
      this.options.log({ event: "poll_failed", error: (error as Error).message });
      return 0;
    }
    let count = 0;
    for (const item of pending) {
      if (await this.handle(item, allowedTcbStatuses)) {
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
