/**
 * The escrow's books as the index keeps them: its settings row, credited balances and allowances.
 * Shared by the job (escrow.ts) and session (sessions.ts) handlers. A debit that would take a
 * balance below zero means the index missed something: ConsistencyError.
 */
import type { Allowance } from "../decode/escrow-events.ts";
import { type ApplyContext, ConsistencyError } from "./context.ts";
import type { Row } from "./state.ts";

/** The escrow's settings row; an event before escrow_initialized is inconsistent. */
export function requireState(ctx: ApplyContext): Row {
  const row = ctx.s.get("escrow_state", [ctx.contract]);
  if (row === null) {
    throw new ConsistencyError(
      `escrow ${ctx.contract} has no escrow_initialized event in the index`,
    );
  }
  return row;
}

export function setBalance(
  ctx: ApplyContext,
  account: string,
  asset: string,
  amount: string,
): void {
  if (amount === "0") {
    ctx.s.remove("balances", [account, asset]);
    return;
  }
  ctx.s.put("balances", [account, asset], {
    account_id: account,
    asset,
    amount,
    updated_height: ctx.height,
  });
}

function balanceOf(ctx: ApplyContext, account: string, asset: string): bigint {
  return BigInt((ctx.s.get("balances", [account, asset])?.amount as string | undefined) ?? "0");
}

export function credit(
  ctx: ApplyContext,
  account: string,
  asset: string,
  amount: string | null,
): void {
  if (amount === null || amount === "0") return;
  setBalance(ctx, account, asset, (balanceOf(ctx, account, asset) + BigInt(amount)).toString());
}

/** Checks that `account` holds `amount`, then takes it. */
export function debit(ctx: ApplyContext, account: string, asset: string, amount: string): void {
  const held = balanceOf(ctx, account, asset);
  if (held < BigInt(amount)) {
    throw new ConsistencyError(
      `${account} pays ${amount} ${asset} from a balance of ${held} in the index`,
    );
  }
  setBalance(ctx, account, asset, (held - BigInt(amount)).toString());
}

export function saveAllowance(ctx: ApplyContext, a: Allowance): void {
  ctx.s.put("allowances", [a.owner, a.spender, a.asset], {
    owner: a.owner,
    spender: a.spender,
    asset: a.asset,
    limit_amount: a.limit,
    period_ns: a.period_ns,
    period_start: a.period_start,
    spent: a.spent,
    updated_height: ctx.height,
  });
}

/**
 * A job or session closing: what the escrow credits each party as balances, the fee to the
 * treasury of that moment.
 */
export function creditClose(
  ctx: ApplyContext,
  record: {
    provider: string;
    payer: string;
    asset: string;
    provider_payout: string | null;
    fee: string | null;
    client_refund: string | null;
  },
): void {
  const treasury = requireState(ctx).treasury as string;
  credit(ctx, record.provider, record.asset, record.provider_payout);
  credit(ctx, treasury, record.asset, record.fee);
  credit(ctx, record.payer, record.asset, record.client_refund);
}
