/**
 * The GPU market escrow: jobs paid in NEAR or allowed NEP-141 tokens, encrypted to the machine's
 * attested keyset and delivered with a receipt signed by the attested machine key; sessions, one
 * budget for many requests paid off-chain by the client's signed vouchers; settlement, disputes,
 * prepaid balances and spending allowances. Each method validates its arguments and
 * delegates to the module of its concern; see README.md for every method.
 */
import { call, initialize, NearBindgen, near, view } from "near-sdk-js";
import { assertArgsSize } from "../../common/src/args.ts";
import { fail } from "../../common/src/errors.ts";
import type {
  Allowance,
  Approval,
  AssetTotals,
  BalanceEntry,
  EscrowParams,
  Job,
  JobRequest,
  ProviderExposure,
  Session,
  SessionRequest,
  StorageBalance,
} from "../../common/src/escrow-types.ts";
import { NEAR_ASSET } from "../../common/src/escrow-types.ts";
import { emitEvent } from "../../common/src/events.ts";
import { assertOwner } from "../../common/src/owner.ts";
import { parseU64, parseU128 } from "../../common/src/u128.ts";
import {
  requireAccountId,
  requireEnum,
  requireObject,
  requireOnlyKeys,
  requirePage,
  requireString,
} from "../../common/src/validate.ts";
import {
  approveJob,
  getApproval,
  listAllowances,
  listApprovals,
  rejectApproval,
  removeAllowance,
  setAllowance,
  spendForSession,
  spendOrRequestApproval,
  viewAllowance,
} from "./allowances.ts";
import {
  allowToken,
  disallowToken,
  isAllowedToken,
  listTokens,
  parseAsset,
  parseUsableAsset,
} from "./assets.ts";
import {
  balanceOf,
  creditIncoming,
  entry,
  escrowFromBalance,
  escrowIncoming,
  getTotals,
  listBalances,
} from "./balances.ts";
import {
  askRegistry,
  type EligibilityOutcome,
  JOB_FIELDS,
  onEligibility,
  parseJobRequest,
  requireStorageForJob,
  startJob,
} from "./create.ts";
import { deliverJob, failJob, onDeliver } from "./delivery.ts";
import { disputeJob, requestSlash, resolveDispute } from "./disputes.ts";
import { providerExposure } from "./exposure.ts";
import { getJob, JOB_STATUSES, jobsByIds, listJobs, parseJobId, requireJob } from "./jobs.ts";
import {
  clientJobs,
  clientSessions,
  machineJobs,
  providerJobs,
  providerSessions,
  statusJobs,
} from "./keys.ts";
import {
  acceptJob,
  cancelJob,
  confirmJob,
  onAccept,
  onReclaim,
  reclaimJob,
  settleJob,
} from "./lifecycle.ts";
import { mergeParams } from "./params.ts";
import {
  claimSession,
  closeSession,
  disputeSession,
  requestSessionSlash,
  resolveSession,
  settleSession,
} from "./session-lifecycle.ts";
import {
  askRegistryForSession,
  onSessionEligibility,
  parseSessionRequest,
  requireStorageForSession,
  SESSION_FIELDS,
  type SessionOutcome,
  startSession,
} from "./session-open.ts";
import { getSession, parseSessionId, requireSession, sessionsByIds } from "./session-store.ts";
import { parseVoucher, parseVoucherObject, VOUCHER_FIELDS } from "./session-vouchers.ts";
import { CONTRACT_VERSION, DEFAULT_PARAMS, type EscrowState, LIMITS } from "./state.ts";
import { storageBalanceOf, storageBounds, storageDeposit, storageWithdraw } from "./storage.ts";
import { migrateState, upgradeSelf } from "./upgrade.ts";
import { onWithdraw, startWithdrawal } from "./withdraw.ts";

type Args = Record<string, unknown>;

/** Rejects oversized input, then checks the arguments are an object with only `keys`. */
function argsOf(method: string, value: unknown, keys: readonly string[]): Args {
  assertArgsSize(method, LIMITS.argsBytes);
  const args = requireObject(value, "args");
  requireOnlyKeys(args, "args", keys);
  return args;
}

function pageArgs(
  method: string,
  value: unknown,
  state: EscrowState,
  keys: readonly string[] = [],
) {
  const args = argsOf(method, value, ["from_index", "limit", ...keys]);
  return { args, ...requirePage(args, state.params.max_page_size) };
}

function requireRegistered(account: string, purpose: string): void {
  if (storageBalanceOf(account) === null) {
    fail(
      `${account} has no storage balance on the escrow, needed for ${purpose}: call storage_deposit`,
    );
  }
}

@NearBindgen({ requireInit: true })
// biome-ignore lint/correctness/noUnusedVariables: near-sdk-js exports its methods as the contract's
class EscrowContract implements EscrowState {
  version = CONTRACT_VERSION;
  owner = "";
  treasury = "";
  arbiter = "";
  registry = "";
  params: EscrowParams = DEFAULT_PARAMS;
  next_job_id = "0";
  next_approval_id = "0";
  exposure_from_job_id = "0";
  next_session_id = "0";

  @initialize({})
  init(value: unknown): void {
    const args = argsOf("init", value, ["owner", "treasury", "arbiter", "registry", "params"]);
    this.owner = requireAccountId(args.owner, "owner");
    this.treasury = requireAccountId(args.treasury, "treasury");
    this.arbiter = requireAccountId(args.arbiter, "arbiter");
    this.registry = requireAccountId(args.registry, "registry");
    this.params = mergeParams(DEFAULT_PARAMS, args.params ?? {}, "params");
    emitEvent({
      event: "escrow_initialized",
      data: {
        owner: this.owner,
        treasury: this.treasury,
        arbiter: this.arbiter,
        registry: this.registry,
        params: this.params,
        version: this.version,
      },
    });
  }

  // Governance

  @call({})
  set_params(value: unknown): EscrowParams {
    const args = argsOf("set_params", value, ["params"]);
    assertOwner(this.owner, "set_params");
    this.params = mergeParams(this.params, args.params, "params");
    emitEvent({ event: "params_updated", data: { params: this.params } });
    return this.params;
  }

  @call({})
  set_arbiter(value: unknown): string {
    const args = argsOf("set_arbiter", value, ["arbiter"]);
    assertOwner(this.owner, "set_arbiter");
    this.arbiter = requireAccountId(args.arbiter, "arbiter");
    emitEvent({ event: "arbiter_set", data: { arbiter: this.arbiter } });
    return this.arbiter;
  }

  @call({})
  set_treasury(value: unknown): string {
    const args = argsOf("set_treasury", value, ["treasury"]);
    assertOwner(this.owner, "set_treasury");
    this.treasury = requireAccountId(args.treasury, "treasury");
    emitEvent({ event: "treasury_set", data: { treasury: this.treasury } });
    return this.treasury;
  }

  @call({})
  allow_token(value: unknown): string {
    const args = argsOf("allow_token", value, ["token"]);
    assertOwner(this.owner, "allow_token");
    const token = requireAccountId(args.token, "token");
    if (!allowToken(token)) {
      fail(`token ${token} is already allowed`);
    }
    emitEvent({ event: "token_allowed", data: { token } });
    return token;
  }

  @call({})
  disallow_token(value: unknown): string {
    const args = argsOf("disallow_token", value, ["token"]);
    assertOwner(this.owner, "disallow_token");
    const token = requireAccountId(args.token, "token");
    if (!disallowToken(token)) {
      fail(`token ${token} is not allowed`);
    }
    emitEvent({ event: "token_disallowed", data: { token } });
    return token;
  }

  // NEP-145 storage

  @call({ payableFunction: true })
  storage_deposit(value: unknown): StorageBalance {
    assertArgsSize("storage_deposit", LIMITS.argsBytes);
    return storageDeposit(value);
  }

  @call({ payableFunction: true })
  storage_withdraw(value: unknown): StorageBalance {
    assertArgsSize("storage_withdraw", LIMITS.argsBytes);
    if (near.attachedDeposit() !== 1n) {
      fail("storage_withdraw requires an attached deposit of exactly 1 yoctoNEAR");
    }
    return storageWithdraw(value);
  }

  @view({})
  storage_balance_of(value: unknown): StorageBalance | null {
    const args = argsOf("storage_balance_of", value, ["account_id"]);
    return storageBalanceOf(requireAccountId(args.account_id, "account_id"));
  }

  @view({})
  storage_balance_bounds(value: unknown): { min: string; max: null } {
    argsOf("storage_balance_bounds", value, []);
    return storageBounds();
  }

  // Prepaid balances and withdrawals

  @call({ payableFunction: true })
  deposit(value: unknown): BalanceEntry {
    argsOf("deposit", value, []);
    const account = near.predecessorAccountId();
    const amount = near.attachedDeposit();
    if (amount === 0n) {
      fail("deposit: attach the NEAR to deposit");
    }
    requireRegistered(account, "a balance");
    creditIncoming(account, NEAR_ASSET, amount);
    const balance = entry(account, NEAR_ASSET);
    emitEvent({ event: "deposit", data: { ...balance, deposited: amount.toString() } });
    return balance;
  }

  @call({ payableFunction: true })
  withdraw(value: unknown): void {
    startWithdrawal(argsOf("withdraw", value, ["asset", "amount"]));
  }

  @call({ privateFunction: true })
  on_withdraw(value: unknown): boolean {
    return onWithdraw(requireObject(value, "args"));
  }

  /**
   * NEP-141 receiver. msg is {"action":"deposit"}, {"action":"create_job","job":{...}} or
   * {"action":"open_session","session":{...}}; returns the unused amount (all of it when the job
   * is not created or the session not opened), which the token refunds.
   */
  @call({})
  ft_on_transfer(value: unknown): string | undefined {
    const args = argsOf("ft_on_transfer", value, ["sender_id", "amount", "msg"]);
    const token = near.predecessorAccountId();
    if (!isAllowedToken(token)) {
      fail(`token ${token} is not allowed by governance`);
    }
    const sender = requireAccountId(args.sender_id, "sender_id");
    const amount = parseU128(args.amount, "amount");
    const text = requireString(args.msg, "msg", 2, LIMITS.msgBytes);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      fail(
        'msg: not JSON; expected {"action":"deposit"}, {"action":"create_job","job":{...}} or ' +
          '{"action":"open_session","session":{...}}',
      );
    }
    const msg = requireObject(parsed, "msg");
    const action = requireEnum(msg.action, "msg.action", [
      "deposit",
      "create_job",
      "open_session",
    ] as const);
    if (action === "deposit") {
      requireOnlyKeys(msg, "msg", ["action"]);
      requireRegistered(sender, "a balance");
      creditIncoming(sender, token, amount);
      const balance = entry(sender, token);
      emitEvent({ event: "deposit", data: { ...balance, deposited: amount.toString() } });
      return "0";
    }
    if (action === "open_session") {
      requireOnlyKeys(msg, "msg", ["action", "session"]);
      const fields = requireObject(msg.session, "msg.session");
      requireOnlyKeys(fields, "msg.session", SESSION_FIELDS);
      const request = parseSessionRequest(this, fields, {
        client: sender,
        payer: sender,
        asset: token,
        budget: amount,
        source: "token",
      });
      // No state changes here: if anything later fails, the token refunds and nothing is left behind.
      requireStorageForSession(sender);
      near.promiseReturn(askRegistryForSession(this, request, null));
      return undefined;
    }
    requireOnlyKeys(msg, "msg", ["action", "job"]);
    const job = requireObject(msg.job, "msg.job");
    requireOnlyKeys(job, "msg.job", JOB_FIELDS);
    const request = parseJobRequest(this, job, {
      client: sender,
      payer: sender,
      asset: token,
      maxAmount: amount,
      source: "token",
    });
    // No state changes here: if anything later fails, the token refunds and nothing is left behind.
    requireStorageForJob(sender);
    near.promiseReturn(askRegistry(this, request));
    return undefined;
  }

  // Jobs

  /**
   * Paid by the attached NEAR, or (no deposit) from the caller's balance in `asset` up to
   * `max_amount`, or by `payer`'s balance through an allowance the payer gave the caller.
   */
  @call({ payableFunction: true })
  create_job(value: unknown): Approval | undefined {
    const args = argsOf("create_job", value, [...JOB_FIELDS, "max_amount", "asset", "payer"]);
    const caller = near.predecessorAccountId();
    const attached = near.attachedDeposit();
    const payer = args.payer === undefined ? caller : requireAccountId(args.payer, "payer");
    if (attached > 0n) {
      if (payer !== caller) {
        fail("payer: a job paid by another account's allowance takes no deposit");
      }
      if (args.asset !== undefined && args.asset !== NEAR_ASSET) {
        fail("asset: a job paid with attached NEAR is in NEAR");
      }
      if (args.max_amount !== undefined && parseU128(args.max_amount, "max_amount") !== attached) {
        fail(
          `max_amount: ${String(args.max_amount)} differs from the attached deposit ${attached}`,
        );
      }
      const request = parseJobRequest(this, args, {
        client: caller,
        payer,
        asset: NEAR_ASSET,
        maxAmount: attached,
        source: "attached",
      });
      escrowIncoming(NEAR_ASSET, attached);
      startJob(this, request, null);
      return undefined;
    }
    if (args.asset === undefined || args.max_amount === undefined) {
      fail("attach NEAR, or give asset and max_amount to pay from a balance");
    }
    const request = parseJobRequest(this, args, {
      client: caller,
      payer,
      asset: parseUsableAsset(args.asset, "asset"),
      maxAmount: parseU128(args.max_amount, "max_amount"),
      source: payer === caller ? "balance" : "allowance",
    });
    if (payer === caller) {
      escrowFromBalance(caller, request.asset, BigInt(request.max_amount));
      startJob(this, request, null);
      return undefined;
    }
    const outcome = spendOrRequestApproval(this, request);
    if ("approval" in outcome) {
      return outcome.approval;
    }
    startJob(this, request, outcome.allowance);
    return undefined;
  }

  @call({ privateFunction: true })
  on_eligibility(value: unknown): EligibilityOutcome | string {
    const args = requireObject(value, "args");
    const period = typeof args.allowance_period === "string" ? args.allowance_period : null;
    return onEligibility(this, args.request as JobRequest, period);
  }

  /** Its result is on_accept's: the accepted job. */
  @call({})
  accept_job(value: unknown): void {
    const args = argsOf("accept_job", value, ["job_id"]);
    acceptJob(this, requireJob(parseJobId(args.job_id, "job_id")));
  }

  @call({ privateFunction: true })
  on_accept(value: unknown): Job {
    const args = requireObject(value, "args");
    return onAccept(String(args.job_id));
  }

  /** Its result is on_deliver's: the delivered job. */
  @call({})
  deliver_job(value: unknown): void {
    const args = argsOf("deliver_job", value, ["job_id", "receipt", "signature"]);
    deliverJob(this, requireJob(parseJobId(args.job_id, "job_id")), args);
  }

  @call({ privateFunction: true })
  on_deliver(value: unknown): Job {
    return onDeliver(this, requireObject(value, "args"));
  }

  @call({})
  fail_job(value: unknown): Job {
    const args = argsOf("fail_job", value, ["job_id", "code", "signature"]);
    return failJob(this, requireJob(parseJobId(args.job_id, "job_id")), args);
  }

  @call({})
  confirm_job(value: unknown): Job {
    const args = argsOf("confirm_job", value, ["job_id"]);
    return confirmJob(this, requireJob(parseJobId(args.job_id, "job_id")));
  }

  @call({})
  settle_job(value: unknown): Job {
    const args = argsOf("settle_job", value, ["job_id"]);
    return settleJob(this, requireJob(parseJobId(args.job_id, "job_id")));
  }

  @call({})
  cancel_job(value: unknown): Job {
    const args = argsOf("cancel_job", value, ["job_id"]);
    return cancelJob(this, requireJob(parseJobId(args.job_id, "job_id")));
  }

  /** After a deadline the refunded job; before it, on_reclaim's result. */
  @call({})
  reclaim_job(value: unknown): Job | undefined {
    const args = argsOf("reclaim_job", value, ["job_id"]);
    return reclaimJob(this, requireJob(parseJobId(args.job_id, "job_id")));
  }

  @call({ privateFunction: true })
  on_reclaim(value: unknown): Job {
    const args = requireObject(value, "args");
    return onReclaim(this, String(args.job_id));
  }

  @call({})
  dispute_job(value: unknown): Job {
    const args = argsOf("dispute_job", value, ["job_id", "reason"]);
    return disputeJob(this, requireJob(parseJobId(args.job_id, "job_id")), args);
  }

  @call({})
  resolve_dispute(value: unknown): Job {
    const args = argsOf("resolve_dispute", value, ["job_id", "provider_amount", "note"]);
    return resolveDispute(this, requireJob(parseJobId(args.job_id, "job_id")), args);
  }

  @call({})
  request_slash(value: unknown): Job {
    const args = argsOf("request_slash", value, ["job_id", "reason"]);
    return requestSlash(this, requireJob(parseJobId(args.job_id, "job_id")), args);
  }

  // Sessions

  /**
   * Paid by the attached NEAR, or (no deposit) from the caller's balance in `asset` up to `budget`,
   * or by `payer`'s balance through an allowance the payer gave the caller. Its result is
   * on_session_eligibility's: the session, or why it was refused.
   */
  @call({ payableFunction: true })
  open_session(value: unknown): void {
    const args = argsOf("open_session", value, [...SESSION_FIELDS, "budget", "asset", "payer"]);
    const caller = near.predecessorAccountId();
    const attached = near.attachedDeposit();
    const payer = args.payer === undefined ? caller : requireAccountId(args.payer, "payer");
    if (attached > 0n) {
      if (payer !== caller) {
        fail("payer: a session paid by another account's allowance takes no deposit");
      }
      if (args.asset !== undefined && args.asset !== NEAR_ASSET) {
        fail("asset: a session paid with attached NEAR is in NEAR");
      }
      if (args.budget !== undefined && parseU128(args.budget, "budget") !== attached) {
        fail(`budget: ${String(args.budget)} differs from the attached deposit ${attached}`);
      }
      const request = parseSessionRequest(this, args, {
        client: caller,
        payer,
        asset: NEAR_ASSET,
        budget: attached,
        source: "attached",
      });
      escrowIncoming(NEAR_ASSET, attached);
      startSession(this, request, null);
      return;
    }
    if (args.asset === undefined || args.budget === undefined) {
      fail("attach NEAR, or give asset and budget to pay from a balance");
    }
    const request = parseSessionRequest(this, args, {
      client: caller,
      payer,
      asset: parseUsableAsset(args.asset, "asset"),
      budget: parseU128(args.budget, "budget"),
      source: payer === caller ? "balance" : "allowance",
    });
    if (payer === caller) {
      escrowFromBalance(caller, request.asset, BigInt(request.budget));
      startSession(this, request, null);
      return;
    }
    startSession(this, request, spendForSession(request, BigInt(request.budget)));
  }

  @call({ privateFunction: true })
  on_session_eligibility(value: unknown): SessionOutcome | string {
    const args = requireObject(value, "args");
    const period = typeof args.allowance_period === "string" ? args.allowance_period : null;
    return onSessionEligibility(this, args.request as SessionRequest, period);
  }

  @call({})
  claim_session(value: unknown): Session {
    const args = argsOf("claim_session", value, ["session_id", ...VOUCHER_FIELDS]);
    const session = requireSession(parseSessionId(args.session_id, "session_id"));
    return claimSession(session, parseVoucher(args, ""));
  }

  @call({})
  close_session(value: unknown): Session {
    const args = argsOf("close_session", value, ["session_id", "voucher"]);
    const session = requireSession(parseSessionId(args.session_id, "session_id"));
    const voucher = args.voucher === undefined ? null : parseVoucherObject(args.voucher);
    return closeSession(this, session, voucher);
  }

  @call({})
  settle_session(value: unknown): Session {
    const args = argsOf("settle_session", value, ["session_id"]);
    return settleSession(this, requireSession(parseSessionId(args.session_id, "session_id")));
  }

  @call({})
  dispute_session(value: unknown): Session {
    const args = argsOf("dispute_session", value, ["session_id", "reason"]);
    const session = requireSession(parseSessionId(args.session_id, "session_id"));
    return disputeSession(this, session, args);
  }

  @call({})
  resolve_session(value: unknown): Session {
    const args = argsOf("resolve_session", value, ["session_id", "provider_amount", "note"]);
    const session = requireSession(parseSessionId(args.session_id, "session_id"));
    return resolveSession(this, session, args);
  }

  @call({})
  request_session_slash(value: unknown): Session {
    const args = argsOf("request_session_slash", value, ["session_id", "reason"]);
    const session = requireSession(parseSessionId(args.session_id, "session_id"));
    return requestSessionSlash(this, session, args);
  }

  // Allowances

  @call({})
  set_allowance(value: unknown): Allowance {
    return setAllowance(argsOf("set_allowance", value, ["spender", "asset", "limit", "period_ns"]));
  }

  @call({})
  remove_allowance(value: unknown): void {
    removeAllowance(argsOf("remove_allowance", value, ["spender", "asset"]));
  }

  @call({})
  approve_job(value: unknown): void {
    const args = argsOf("approve_job", value, ["approval_id"]);
    approveJob(this, parseU64(args.approval_id, "approval_id").toString());
  }

  @call({})
  reject_approval(value: unknown): Approval {
    const args = argsOf("reject_approval", value, ["approval_id"]);
    return rejectApproval(parseU64(args.approval_id, "approval_id").toString());
  }

  // Views

  @view({})
  escrow_info(value: unknown): EscrowState {
    argsOf("escrow_info", value, []);
    return {
      version: this.version,
      owner: this.owner,
      treasury: this.treasury,
      arbiter: this.arbiter,
      registry: this.registry,
      params: this.params,
      next_job_id: this.next_job_id,
      next_approval_id: this.next_approval_id,
      exposure_from_job_id: this.exposure_from_job_id,
      next_session_id: this.next_session_id,
    };
  }

  @view({})
  get_params(value: unknown): EscrowParams {
    argsOf("get_params", value, []);
    return this.params;
  }

  @view({})
  job(value: unknown): Job | null {
    const args = argsOf("job", value, ["job_id"]);
    return getJob(parseJobId(args.job_id, "job_id"));
  }

  @view({})
  jobs(value: unknown): Job[] {
    const { from, limit } = pageArgs("jobs", value, this);
    return listJobs(BigInt(this.next_job_id), from, limit);
  }

  @view({})
  jobs_by_client(value: unknown): Job[] {
    const { args, from, limit } = pageArgs("jobs_by_client", value, this, ["account_id"]);
    return jobsByIds(clientJobs(requireAccountId(args.account_id, "account_id")).page(from, limit));
  }

  @view({})
  jobs_by_provider(value: unknown): Job[] {
    const { args, from, limit } = pageArgs("jobs_by_provider", value, this, ["account_id"]);
    return jobsByIds(
      providerJobs(requireAccountId(args.account_id, "account_id")).page(from, limit),
    );
  }

  @view({})
  jobs_by_machine(value: unknown): Job[] {
    const { args, from, limit } = pageArgs("jobs_by_machine", value, this, ["machine_id"]);
    const machineId = parseU64(args.machine_id, "machine_id").toString();
    return jobsByIds(machineJobs(machineId).page(from, limit));
  }

  @view({})
  jobs_by_status(value: unknown): Job[] {
    const { args, from, limit } = pageArgs("jobs_by_status", value, this, ["status"]);
    const status = requireEnum(args.status, "status", JOB_STATUSES);
    return jobsByIds(statusJobs(status).page(from, limit));
  }

  @view({})
  session(value: unknown): Session | null {
    const args = argsOf("session", value, ["session_id"]);
    return getSession(parseSessionId(args.session_id, "session_id"));
  }

  @view({})
  sessions_by_client(value: unknown): Session[] {
    const { args, from, limit } = pageArgs("sessions_by_client", value, this, ["account_id"]);
    const account = requireAccountId(args.account_id, "account_id");
    return sessionsByIds(clientSessions(account).page(from, limit));
  }

  @view({})
  sessions_by_provider(value: unknown): Session[] {
    const { args, from, limit } = pageArgs("sessions_by_provider", value, this, ["account_id"]);
    const account = requireAccountId(args.account_id, "account_id");
    return sessionsByIds(providerSessions(account).page(from, limit));
  }

  @view({})
  provider_exposure(value: unknown): ProviderExposure {
    const args = argsOf("provider_exposure", value, ["account_id"]);
    return providerExposure(requireAccountId(args.account_id, "account_id"));
  }

  @view({})
  balance_of(value: unknown): string {
    const args = argsOf("balance_of", value, ["account_id", "asset"]);
    return balanceOf(
      requireAccountId(args.account_id, "account_id"),
      parseAsset(args.asset, "asset"),
    ).toString();
  }

  @view({})
  balances(value: unknown): BalanceEntry[] {
    const { args, from, limit } = pageArgs("balances", value, this, ["account_id"]);
    return listBalances(requireAccountId(args.account_id, "account_id"), from, limit);
  }

  @view({})
  asset_totals(value: unknown): AssetTotals {
    const args = argsOf("asset_totals", value, ["asset"]);
    return getTotals(parseAsset(args.asset, "asset"));
  }

  @view({})
  allowed_tokens(value: unknown): string[] {
    const { from, limit } = pageArgs("allowed_tokens", value, this);
    return listTokens(from, limit);
  }

  @view({})
  allowance(value: unknown): Allowance | null {
    const args = argsOf("allowance", value, ["owner", "spender", "asset"]);
    return viewAllowance(
      requireAccountId(args.owner, "owner"),
      requireAccountId(args.spender, "spender"),
      parseAsset(args.asset, "asset"),
    );
  }

  @view({})
  allowances(value: unknown): Allowance[] {
    const { args, from, limit } = pageArgs("allowances", value, this, ["owner"]);
    return listAllowances(requireAccountId(args.owner, "owner"), from, limit);
  }

  @view({})
  approval(value: unknown): Approval | null {
    const args = argsOf("approval", value, ["approval_id"]);
    return getApproval(parseU64(args.approval_id, "approval_id").toString());
  }

  @view({})
  approvals(value: unknown): Approval[] {
    const { args, from, limit } = pageArgs("approvals", value, this, ["owner"]);
    return listApprovals(requireAccountId(args.owner, "owner"), from, limit);
  }
}

/** Raw-input method: the input is the new wasm, not JSON. Owner only. */
export function upgrade(): void {
  upgradeSelf();
}

/** Raw method called by upgrade's receipt after the deploy: rewrites STATE in the new layout. */
export function migrate(): void {
  migrateState();
}
