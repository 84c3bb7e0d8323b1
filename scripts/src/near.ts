/**
 * NEAR over JSON-RPC (near-api-js 7): views, signed function calls that return the decoded value
 * and the NEP-297 events they logged, and contract panics turned into readable errors.
 */
import { Account, type Action, actions, JsonRpcProvider, type KeyPair } from "near-api-js";
import { type Credentials, loadAccountKey } from "./credentials.ts";
import { CliError, messageOf } from "./errors.ts";
import type { Network } from "./network.ts";
import { TGAS } from "./units.ts";

const STORAGE_BYTE_COST = 10n ** 19n;

export interface MarketEvent {
  standard: string;
  version: string;
  event: string;
  data: unknown[];
}

export interface CallOptions {
  deposit?: bigint;
  gas?: bigint;
  /**
   * The contract handles failures of the receipts it spawned (a callback records them in an
   * event or its state): do not turn them into an error; the caller reads the events.
   */
  handlesReceiptFailures?: boolean;
}

export interface CallOutcome<T> {
  value: T;
  txHash: string;
  events: MarketEvent[];
}

interface TxResponse {
  status: { SuccessValue?: string; Failure?: unknown } | string;
  transaction: { hash: string };
  receipts_outcome: { outcome: { logs: string[]; status: unknown } }[];
}

/** near-sdk-js panics carry the JS stack after the message; keep the message. */
export function panicMessage(raw: string): string {
  const match = /Smart contract panicked: ([\s\S]*)/.exec(raw);
  const text = match?.[1] ?? raw;
  return text.split(/\n\s+at /)[0]?.trim() ?? text;
}

export function eventsOf(logs: string[]): MarketEvent[] {
  const out: MarketEvent[] = [];
  for (const log of logs) {
    if (!log.startsWith("EVENT_JSON:")) continue;
    try {
      out.push(JSON.parse(log.slice("EVENT_JSON:".length)) as MarketEvent);
    } catch {
      // a log that only looks like an event: not ours to judge
    }
  }
  return out;
}

function decodeValue(status: TxResponse["status"]): unknown {
  if (typeof status !== "object" || status.SuccessValue === undefined) return undefined;
  const text = Buffer.from(status.SuccessValue, "base64").toString("utf8");
  if (text === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function failureText(failure: unknown): string {
  const text = JSON.stringify(failure);
  const panic = /"ExecutionError":"((?:[^"\\]|\\.)*)"/.exec(text);
  if (panic?.[1] !== undefined) return panicMessage(JSON.parse(`"${panic[1]}"`) as string);
  return text;
}

export class Chain {
  readonly network: Network;
  readonly provider: JsonRpcProvider;
  private readonly creds: Credentials;
  private readonly accounts = new Map<string, Account>();

  constructor(network: Network, creds: Credentials) {
    this.network = network;
    this.creds = creds;
    this.provider = new JsonRpcProvider({ url: network.rpcUrl });
  }

  private unreachable(error: unknown): CliError {
    return new CliError(
      `cannot reach ${this.network.id} RPC at ${this.network.rpcUrl}: ${messageOf(error)}`,
      {
        hint:
          this.network.id === "localnet"
            ? "start a local node (`npm start`, or localnet/bin/near-sandbox run) or pass --rpc-url"
            : "check your connection, or pass --rpc-url / NEAR_<NETWORK>_RPC_URL with another endpoint",
        cause: error,
      },
    );
  }

  async view<T>(
    contractId: string,
    method: string,
    args: Record<string, unknown> = {},
  ): Promise<T> {
    try {
      return (await this.provider.callFunction({
        contractId,
        method,
        args,
        blockQuery: { finality: "final" },
      })) as T;
    } catch (error) {
      const text = messageOf(error);
      if (/fetch failed|ECONNREFUSED|ENOTFOUND/.test(text)) throw this.unreachable(error);
      if (/does not exist/.test(text)) {
        throw new CliError(`${contractId} does not exist on ${this.network.id}`, {
          hint: "check the contract account (--registry/--escrow/--governance or the deployment file)",
          cause: error,
        });
      }
      throw new CliError(`${contractId}.${method}: ${panicMessage(text)}`, { cause: error });
    }
  }

  /**
   * What the account can spend, or null if it does not exist: its liquid balance less what its
   * storage locks (storage_usage at 1e19 yoctoNEAR a byte on every NEAR network).
   */
  async balance(accountId: string): Promise<{ available: bigint } | null> {
    try {
      const state = await this.provider.viewAccount({
        accountId,
        blockQuery: { finality: "final" },
      });
      const locked = BigInt(state.storage_usage) * STORAGE_BYTE_COST;
      const amount = BigInt(state.amount);
      return { available: amount > locked ? amount - locked : 0n };
    } catch (error) {
      const text = messageOf(error);
      if (/fetch failed|ECONNREFUSED|ENOTFOUND/.test(text)) throw this.unreachable(error);
      if (/does not exist|UNKNOWN_ACCOUNT|AccountDoesNotExist/i.test(text)) return null;
      throw error;
    }
  }

  /** An account that signs with its key from the environment or keystore. */
  account(accountId: string): Account {
    let account = this.accounts.get(accountId);
    if (account === undefined) {
      const key = loadAccountKey(this.creds, this.network.id, accountId);
      account = new Account(accountId, this.provider, key);
      this.accounts.set(accountId, account);
    }
    return account;
  }

  /** An account signing with a key the caller holds (accounts deploy has just created). */
  accountWithKey(accountId: string, keyPair: KeyPair): Account {
    const account = new Account(accountId, this.provider, keyPair.toString());
    this.accounts.set(accountId, account);
    return account;
  }

  /** Sends actions and waits until final; a failure anywhere becomes a CliError. */
  async send(
    signerId: string,
    receiverId: string,
    list: Action[],
    what: string,
  ): Promise<TxResponse> {
    const signer = this.account(signerId);
    let response: TxResponse;
    try {
      response = (await signer.signAndSendTransaction({
        receiverId,
        actions: list,
        waitUntil: "FINAL",
      })) as unknown as TxResponse;
    } catch (error) {
      const text = messageOf(error);
      if (/fetch failed|ECONNREFUSED|ENOTFOUND/.test(text)) throw this.unreachable(error);
      throw new CliError(`${what} failed: ${panicMessage(text)}`, {
        hint: hintFor(text),
        cause: error,
      });
    }
    const status = response.status;
    if (typeof status === "object" && status.Failure !== undefined) {
      throw new CliError(`${what} failed: ${failureText(status.Failure)}`);
    }
    return response;
  }

  async call<T = unknown>(
    signerId: string,
    contractId: string,
    method: string,
    args: Record<string, unknown> | Uint8Array,
    options: CallOptions = {},
  ): Promise<CallOutcome<T>> {
    const response = await this.send(
      signerId,
      contractId,
      [actions.functionCall(method, args, options.gas ?? 100n * TGAS, options.deposit ?? 0n)],
      `${contractId}.${method}`,
    );
    // A receipt after the first (a cross-contract call) may have failed while the transaction's
    // own status is a success: report the first failed receipt unless the contract handles it.
    for (const receipt of options.handlesReceiptFailures ? [] : response.receipts_outcome) {
      const failure = (receipt.outcome.status as { Failure?: unknown }).Failure;
      if (failure !== undefined) {
        throw new CliError(`${contractId}.${method} failed: ${failureText(failure)}`);
      }
    }
    return {
      value: decodeValue(response.status) as T,
      txHash: response.transaction.hash,
      events: eventsOf(response.receipts_outcome.flatMap((r) => r.outcome.logs)),
    };
  }
}

function hintFor(text: string): string | undefined {
  if (/NotEnoughBalance|LackBalanceForState|not enough balance/i.test(text)) {
    return "fund the signing account and try again (the prepaid gas is reserved up front at a pessimistic price, up to ~50 NEAR for 300 Tgas, and refunded after)";
  }
  if (/AccessKeyDoesNotExist|InvalidAccessKey/i.test(text)) {
    return "the key in your keystore is not an access key of this account: import the right key";
  }
  if (/attached deposit/i.test(text) && /storage/i.test(text)) {
    return "attach more deposit (the surplus comes back)";
  }
  return undefined;
}
