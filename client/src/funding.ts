/**
 * Paying a job or a session into the escrow, each way it can be paid (attached NEAR, the payer's
 * escrow balance, a NEP-141 token through ft_transfer_call), and reading what came of it from the
 * escrow's events: the record created, or the refusal with the funds given back.
 */
import type { CallOutcome, MarketChain } from "./chain.ts";
import { clientError } from "./errors.ts";
import type { Payment } from "./types.ts";

/** What is paid for: a job (create_job) or a session (open_session). */
export interface Funded {
  what: "job" | "session";
  method: "create_job" | "open_session";
  /** The method's amount argument when paid from a balance. */
  amountField: "max_amount" | "budget";
  /** Events: the record made, or the refusal. */
  made: "job_created" | "session_opened";
  refused: "job_rejected" | "session_rejected";
  gas: bigint;
}

export async function payInto(
  chain: MarketChain,
  escrow: string,
  funded: Funded,
  fields: object,
  amount: bigint,
  payment: Payment,
): Promise<CallOutcome<unknown>> {
  // The eligibility callback refunds a refusal and reports it in an event: receipt failures are
  // read from the events, not thrown.
  switch (payment.from) {
    case "attached":
      return chain.call(
        escrow,
        funded.method,
        { ...fields },
        {
          deposit: amount,
          gas: funded.gas,
          handlesReceiptFailures: true,
        },
      );
    case "balance":
      return chain.call(
        escrow,
        funded.method,
        { ...fields, asset: payment.asset ?? "NEAR", [funded.amountField]: amount.toString() },
        { gas: funded.gas, handlesReceiptFailures: true },
      );
    case "token":
      return chain.call(
        payment.token,
        "ft_transfer_call",
        {
          receiver_id: escrow,
          amount: amount.toString(),
          msg: JSON.stringify({ action: funded.method, [funded.what]: fields }),
        },
        { deposit: 1n, gas: funded.gas, handlesReceiptFailures: true },
      );
  }
}

/** The record the escrow made, from its event; a refusal or a failed call is a client error. */
export function madeRecord<T>(outcome: CallOutcome<unknown>, funded: Funded): T {
  const made = outcome.events.find((e) => e.event === funded.made);
  if (made !== undefined) return made.data[0] as T;
  const refused = outcome.events.find((e) => e.event === funded.refused);
  if (refused !== undefined) {
    const data = refused.data[0] as { reason: string; refunded_to: string };
    clientError(
      "job_rejected",
      `the escrow refused the ${funded.what}: ${data.reason} (the ${funded.amountField === "budget" ? "budget" : "amount"} went back to ${data.refunded_to})`,
      { txHash: outcome.txHash, refunded: true },
    );
  }
  const failure = outcome.failures[0];
  return clientError(
    "transaction_failed",
    failure === undefined
      ? `${funded.method} logged neither ${funded.made} nor ${funded.refused}`
      : `the ${funded.what} was not ${funded.what === "job" ? "created" : "opened"}: ${failure}`,
    { txHash: outcome.txHash },
  );
}
