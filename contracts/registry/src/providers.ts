/** Providers: registration with a bond, profile updates, pause/resume, retirement, bond withdrawal, slashing. */
import { near } from "near-sdk-js";
import { fail } from "../../common/src/errors.ts";
import { emitEvent } from "../../common/src/events.ts";
import { assertNoDeposit, assertOwner } from "../../common/src/owner.ts";
import type { Provider, ProviderStatus } from "../../common/src/registry-types.ts";
import { StorageMeter, transfer } from "../../common/src/storage-meter.ts";
import { readRecord, writeRecord } from "../../common/src/store.ts";
import { parseU128 } from "../../common/src/u128.ts";
import {
  requireAccountId,
  requireMatch,
  requireObject,
  requireOnlyKeys,
  requireText,
  requireUrl,
} from "../../common/src/validate.ts";
import { providerKey, providerSet } from "./keys.ts";
import type { RegistryState } from "./state.ts";

const REGION = /^[a-z0-9][a-z0-9-]*$/;

export function getProvider(account: string): Provider | null {
  return readRecord<Provider>(providerKey(account));
}

export function requireProvider(account: string): Provider {
  return getProvider(account) ?? fail(`unknown provider ${account}`);
}

/** The caller as a provider in one of `allowed` statuses. */
export function requireCallerProvider(
  allowed: readonly ProviderStatus[],
  action: string,
): Provider {
  const caller = near.predecessorAccountId();
  const provider = getProvider(caller) ?? fail(`${caller} is not a registered provider`);
  if (!allowed.includes(provider.status)) {
    fail(`provider ${caller} is ${provider.status}; ${action} needs it ${allowed.join(" or ")}`);
  }
  return provider;
}

function saveProvider(provider: Provider): void {
  writeRecord(providerKey(provider.account_id), provider);
}

function parseProfile(
  args: Record<string, unknown>,
  base: { name: string; endpoint: string; region: string },
): { name: string; endpoint: string; region: string } {
  return {
    name: args.name === undefined ? base.name : requireText(args.name, "name", 1, 64),
    endpoint:
      args.endpoint === undefined ? base.endpoint : requireUrl(args.endpoint, "endpoint", 256),
    region:
      args.region === undefined
        ? base.region
        : requireMatch(args.region, "region", REGION, 32, "a region id like eu-west-1"),
  };
}

export function registerProvider(state: RegistryState, value: unknown): Provider {
  const args = requireObject(value, "args");
  requireOnlyKeys(args, "args", ["name", "endpoint", "region"]);
  for (const field of ["name", "endpoint", "region"]) {
    if (args[field] === undefined) {
      fail(`${field}: required`);
    }
  }
  const profile = parseProfile(args, { name: "", endpoint: "", region: "" });
  const account = near.predecessorAccountId();
  if (getProvider(account) !== null) {
    fail(`provider ${account} is already registered`);
  }
  const meter = new StorageMeter();
  const now = near.blockTimestamp().toString();
  const attached = near.attachedDeposit();
  const provider: Provider = {
    account_id: account,
    ...profile,
    bond: attached.toString(),
    status: "active",
    created_at: now,
    updated_at: now,
    unbonding_ends_at: null,
  };
  // Written once with the whole deposit as a same-or-longer placeholder to measure storage, then
  // with the bond: what the deposit leaves after storage.
  saveProvider(provider);
  providerSet().add(account);
  const storageCost = meter.callerBytes() * near.storageByteCost();
  const bond = attached - storageCost;
  const minBond = BigInt(state.params.min_bond);
  if (bond < minBond) {
    fail(
      `attached deposit ${attached} leaves a bond of ${bond > 0n ? bond : 0n} after ${storageCost} ` +
        `for storage; the minimum bond is ${minBond}`,
    );
  }
  provider.bond = bond.toString();
  saveProvider(provider);
  meter.settle(bond, "bond");
  emitEvent({ event: "provider_registered", data: provider });
  return provider;
}

export function updateProvider(value: unknown): Provider {
  const args = requireObject(value, "args");
  requireOnlyKeys(args, "args", ["name", "endpoint", "region"]);
  if (args.name === undefined && args.endpoint === undefined && args.region === undefined) {
    fail("args: give at least one of name, endpoint, region");
  }
  const provider = requireCallerProvider(["active", "paused"], "update_provider");
  const meter = new StorageMeter();
  Object.assign(provider, parseProfile(args, provider));
  provider.updated_at = near.blockTimestamp().toString();
  saveProvider(provider);
  meter.settle();
  emitEvent({ event: "provider_updated", data: provider });
  return provider;
}

export function setProviderPaused(paused: boolean): Provider {
  const method = paused ? "pause_provider" : "resume_provider";
  const provider = requireCallerProvider([paused ? "active" : "paused"], method);
  const meter = new StorageMeter();
  provider.status = paused ? "paused" : "active";
  provider.updated_at = near.blockTimestamp().toString();
  saveProvider(provider);
  meter.settle();
  emitEvent({ event: paused ? "provider_paused" : "provider_resumed", data: provider });
  return provider;
}

export function retireProvider(state: RegistryState): Provider {
  const provider = requireCallerProvider(["active", "paused"], "retire_provider");
  const meter = new StorageMeter();
  const now = near.blockTimestamp();
  provider.status = "retired";
  provider.updated_at = now.toString();
  provider.unbonding_ends_at = (now + BigInt(state.params.unbonding_period_ns)).toString();
  saveProvider(provider);
  meter.settle();
  emitEvent({ event: "provider_retired", data: provider });
  return provider;
}

export function withdrawBond(): Provider {
  const provider = requireCallerProvider(["retired", "slashed"], "withdraw_bond");
  const now = near.blockTimestamp();
  const endsAt = BigInt(provider.unbonding_ends_at ?? "0");
  if (now < endsAt) {
    fail(`the bond of ${provider.account_id} is unbonding until ${endsAt} (now ${now})`);
  }
  const amount = BigInt(provider.bond);
  if (amount === 0n) {
    fail(`provider ${provider.account_id} has no bond left to withdraw`);
  }
  const meter = new StorageMeter();
  provider.bond = "0";
  provider.updated_at = now.toString();
  saveProvider(provider);
  meter.settle();
  transfer(provider.account_id, amount);
  emitEvent({ event: "bond_withdrawn", data: { ...provider, amount: amount.toString() } });
  return provider;
}

/** Owner only: moves `amount` (all of the bond when omitted) to the treasury. */
export function slashProvider(state: RegistryState, value: unknown): Provider {
  assertOwner(state.owner, "slash_provider");
  assertNoDeposit("slash_provider");
  const args = requireObject(value, "args");
  requireOnlyKeys(args, "args", ["provider", "amount", "reason"]);
  const account = requireAccountId(args.provider, "provider");
  const reason = requireText(args.reason, "reason", 1, 256);
  const provider = requireProvider(account);
  const bond = BigInt(provider.bond);
  const amount = args.amount === undefined ? bond : parseU128(args.amount, "amount");
  if (amount === 0n || amount > bond) {
    fail(`amount: must be between 1 and the bond ${bond}, got ${amount}`);
  }
  const now = near.blockTimestamp();
  provider.bond = (bond - amount).toString();
  provider.status = "slashed";
  provider.updated_at = now.toString();
  // Slashing (re)starts unbonding: the remainder stays claimable by later slashes for a full period.
  provider.unbonding_ends_at = (now + BigInt(state.params.unbonding_period_ns)).toString();
  saveProvider(provider);
  transfer(state.treasury, amount);
  emitEvent({
    event: "provider_slashed",
    data: { ...provider, amount: amount.toString(), reason, treasury: state.treasury },
  });
  return provider;
}

export function listProviders(from: number, limit: number): Provider[] {
  const out: Provider[] = [];
  for (const account of providerSet().page(from, limit)) {
    const provider = getProvider(account);
    if (provider !== null) {
      out.push(provider);
    }
  }
  return out;
}
