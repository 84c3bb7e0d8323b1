/** Providers: registration with a bond, profile updates, pause/resume, retirement, bond withdrawal, slashing. */
import { near } from "near-sdk-js";
import { fail } from "../../common/src/errors.ts";
import type { ProviderExposure } from "../../common/src/escrow-types.ts";
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
import { GAS, type RegistryState } from "./state.ts";

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

/** The caller's bond, once unbonding is over: what withdraw_bond and its callback check. */
function requireWithdrawable(provider: Provider, now: bigint): bigint {
  const endsAt = BigInt(provider.unbonding_ends_at ?? "0");
  if (now < endsAt) {
    fail(`the bond of ${provider.account_id} is unbonding until ${endsAt} (now ${now})`);
  }
  const amount = BigInt(provider.bond);
  if (amount === 0n) {
    fail(`provider ${provider.account_id} has no bond left to withdraw`);
  }
  return amount;
}

/**
 * Unbonding is over: with an escrow wired, the registry first asks it about the provider's work
 * (provider_exposure) and on_bond_check pays; without one, the bond is paid at once.
 */
export function withdrawBond(state: RegistryState): Provider | undefined {
  const provider = requireCallerProvider(["retired", "slashed"], "withdraw_bond");
  requireWithdrawable(provider, near.blockTimestamp());
  if (state.escrow === "") {
    return payBond(provider);
  }
  const needed = GAS.exposure + GAS.bondCheck + GAS.margin;
  const left = near.prepaidGas() - near.usedGas();
  if (left < needed) {
    fail(`not enough gas: ${left} left, withdraw_bond needs at least ${needed} more`);
  }
  const ask = near.promiseBatchCreate(state.escrow);
  near.promiseBatchActionFunctionCall(
    ask,
    "provider_exposure",
    JSON.stringify({ account_id: provider.account_id }),
    0n,
    GAS.exposure,
  );
  const check = near.promiseBatchThen(ask, near.currentAccountId());
  near.promiseBatchActionFunctionCallWeight(
    check,
    "on_bond_check",
    JSON.stringify({ provider: provider.account_id, escrow: state.escrow }),
    0n,
    GAS.bondCheck,
    1n,
  );
  near.promiseReturn(check);
  return undefined;
}

/**
 * withdraw_bond's callback with the escrow's answer: the bond stays while the provider has
 * delivered or disputed jobs (work a dispute may still find bad) and for one unbonding period
 * after the last of them closed (the time governance has to act on a slash request); otherwise
 * the bond is paid. Fails (changing nothing) on any other answer.
 */
export function onBondCheck(state: RegistryState, args: Record<string, unknown>): Provider {
  const account = String(args.provider);
  const escrow = String(args.escrow);
  let exposure: ProviderExposure;
  try {
    exposure = JSON.parse(near.promiseResult(0)) as ProviderExposure;
  } catch (error) {
    fail(
      `could not ask ${escrow} about the jobs of ${account} (${error instanceof Error ? error.message : String(error)}): try again`,
    );
  }
  const provider = requireProvider(account);
  if (provider.status !== "retired" && provider.status !== "slashed") {
    fail(`provider ${account} is ${provider.status}; withdraw_bond needs it retired or slashed`);
  }
  const now = near.blockTimestamp();
  requireWithdrawable(provider, now);
  const open = Number(exposure?.open_jobs);
  if (!Number.isSafeInteger(open) || open < 0) {
    fail(`${escrow} answered ${JSON.stringify(exposure)} instead of the provider's exposure`);
  }
  if (open > 0) {
    fail(
      `provider ${account} has ${open} delivered or disputed job${open === 1 ? "" : "s"} on ` +
        `${escrow}: the bond stays until they close, and one unbonding period after`,
    );
  }
  if (exposure.last_closed_at !== null) {
    const until = BigInt(exposure.last_closed_at) + BigInt(state.params.unbonding_period_ns);
    if (now < until) {
      fail(
        `provider ${account}: its last delivered job closed at ${exposure.last_closed_at} on ` +
          `${escrow}; the bond unbonds until ${until} (now ${now})`,
      );
    }
  }
  return payBond(provider);
}

/** Pays the whole bond out, with the storage its shorter record frees. */
function payBond(provider: Provider): Provider {
  const amount = BigInt(provider.bond);
  const before = near.storageUsage();
  provider.bond = "0";
  provider.updated_at = near.blockTimestamp().toString();
  saveProvider(provider);
  const freed = before - near.storageUsage();
  transfer(provider.account_id, amount + (freed > 0n ? freed * near.storageByteCost() : 0n));
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
