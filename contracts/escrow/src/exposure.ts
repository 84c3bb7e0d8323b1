/**
 * Per provider, its jobs a dispute may still find bad (delivered or disputed, not closed) and its
 * sessions (from open to settled or resolved), and when the last of them closed. The registry's withdraw_bond asks (provider_exposure) and keeps the bond
 * while any is open and for one unbonding period after, so a slash that a dispute asks for still
 * finds the bond. Jobs created before state version 3 (ids below exposure_from_job_id) are not
 * counted: they were delivered, or may be, without this record.
 */
import { near } from "near-sdk-js";
import type { Job, ProviderExposure } from "../../common/src/escrow-types.ts";
import { readRecord, writeRecord } from "../../common/src/store.ts";
import { exposureKey } from "./keys.ts";
import type { EscrowState } from "./state.ts";

export function providerExposure(account: string): ProviderExposure {
  return (
    readRecord<ProviderExposure>(exposureKey(account)) ?? {
      account_id: account,
      open_jobs: 0,
      last_closed_at: null,
    }
  );
}

function counted(state: EscrowState, job: Job): boolean {
  return BigInt(job.id) >= BigInt(state.exposure_from_job_id);
}

/** One more piece of work a dispute may still find bad: a job delivered, or a session opened. */
export function exposureAdded(provider: string): void {
  const exposure = providerExposure(provider);
  exposure.open_jobs += 1;
  writeRecord(exposureKey(provider), exposure);
}

/** A delivered or disputed job, or a session, closed (settled or resolved). */
export function exposureRemoved(provider: string): void {
  const exposure = providerExposure(provider);
  exposure.open_jobs = Math.max(0, exposure.open_jobs - 1);
  exposure.last_closed_at = near.blockTimestamp().toString();
  writeRecord(exposureKey(provider), exposure);
}

/** The job was delivered. */
export function exposureOpened(state: EscrowState, job: Job): void {
  if (counted(state, job)) {
    exposureAdded(job.provider);
  }
}

/** A delivered or disputed job closed. */
export function exposureClosed(state: EscrowState, job: Job): void {
  if (counted(state, job)) {
    exposureRemoved(job.provider);
  }
}
