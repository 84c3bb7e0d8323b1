/**
 * The chain as the client needs it: views, signed function calls that return their value and the
 * NEP-297 events they logged, and the time of the latest final block. `MarketChain` is what the
 * rest of the client uses, so a dApp may sign through its own wallet by implementing it;
 * `NearChain` implements it with near-api-js 7 over JSON-RPC.
 */
import {
  Account,
  actions,
  JsonRpcProvider,
  KeyPair,
  KeyPairSigner,
  type KeyPairString,
  type Signer,
} from "near-api-js";
import { clientError, messageOf } from "./errors.ts";
import type { AccountOption, NetworkOption } from "./types.ts";

export const TGAS = 10n ** 12n;

export const RPC_URLS = {
  localnet: "http://127.0.0.1:3030",
  testnet: "https://rpc.testnet.near.org",
  mainnet: "https://rpc.mainnet.near.org",
} as const;

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
   * The contract handles failures of the receipts it spawned (a callback reports them in an
   * event): they are not errors here; the caller reads the events.
   */
  handlesReceiptFailures?: boolean;
}

export interface CallOutcome<T> {
  value: T;
  txHash: string;
  events: MarketEvent[];
  /** Why receipts failed, when the contract handles their failures (handlesReceiptFailures). */
  failures: string[];
}

export interface MarketChain {
  /** The account that signs the client's transactions. */
  readonly accountId: string;
  view<T>(contractId: string, method: string, args: Record<string, unknown>): Promise<T>;
  call<T = unknown>(
    contractId: string,
    method: string,
    args: Record<string, unknown>,
    options?: CallOptions,
  ): Promise<CallOutcome<T>>;
  /** The timestamp of the latest final block, in nanoseconds (deadlines are block times). */
  blockTimestampNs(): Promise<bigint>;
}

export function rpcUrlOf(network: NetworkOption): string {
  if (typeof network === "string") {
    if (!Object.hasOwn(RPC_URLS, network)) {
      clientError("bad_input", `network: "${network}" is not localnet, testnet or mainnet`);
    }
    return RPC_URLS[network];
  }
  let url: URL;
  try {
    url = new URL(network.rpcUrl);
  } catch {
    return clientError("bad_input", `network.rpcUrl: "${network.rpcUrl}" is not a URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    clientError("bad_input", `network.rpcUrl: "${network.rpcUrl}" is not an http(s) URL`);
  }
  return network.rpcUrl;
}

export function signerOf(signer: AccountOption["signer"]): Signer {
  if (typeof signer === "string") {
    try {
      return new KeyPairSigner(KeyPair.fromString(signer as KeyPairString));
    } catch (error) {
      return clientError("bad_input", `account.signer: not a secret key (${messageOf(error)})`);
    }
  }
  // Duck-typed: a dApp's near-api-js may be another copy than ours, where instanceof fails.
  if (typeof (signer as Signer)?.signTransaction === "function") return signer as Signer;
  if (typeof (signer as KeyPair)?.sign === "function") return new KeyPairSigner(signer as KeyPair);
  return clientError("bad_input", "account.signer: expected a Signer, a KeyPair or a secret key");
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
      // a log that only looks like an event is not one of ours
    }
  }
  return out;
}

interface TxResponse {
  status: { SuccessValue?: string; Failure?: unknown } | string;
  transaction: { hash: string };
  receipts_outcome: { outcome: { logs: string[]; status: unknown } }[];
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

const UNREACHABLE = /fetch failed|ECONNREFUSED|ENOTFOUND|ETIMEDOUT|socket hang up/;

export class NearChain implements MarketChain {
  readonly accountId: string;
  readonly rpcUrl: string;
  private readonly provider: JsonRpcProvider;
  private readonly account: Account;

  constructor(network: NetworkOption, account: AccountOption) {
    if (typeof account?.accountId !== "string" || account.accountId === "") {
      clientError("bad_input", "account.accountId: expected the account that signs and pays");
    }
    this.rpcUrl = rpcUrlOf(network);
    this.accountId = account.accountId;
    this.provider = new JsonRpcProvider({ url: this.rpcUrl });
    this.account = new Account(account.accountId, this.provider, signerOf(account.signer));
  }

  private rpcFailure(what: string, error: unknown): never {
    const text = messageOf(error);
    if (UNREACHABLE.test(text)) {
      clientError("rpc_error", `cannot reach the NEAR RPC at ${this.rpcUrl}: ${text}`, {
        cause: error,
      });
    }
    return clientError("rpc_error", `${what}: ${panicMessage(text)}`, { cause: error });
  }

  async view<T>(contractId: string, method: string, args: Record<string, unknown>): Promise<T> {
    try {
      return (await this.provider.callFunction({
        contractId,
        method,
        args,
        blockQuery: { finality: "final" },
      })) as T;
    } catch (error) {
      return this.rpcFailure(`view ${contractId}.${method}`, error);
    }
  }

  async call<T = unknown>(
    contractId: string,
    method: string,
    args: Record<string, unknown>,
    options: CallOptions = {},
  ): Promise<CallOutcome<T>> {
    const what = `${contractId}.${method}`;
    let response: TxResponse;
    try {
      response = (await this.account.signAndSendTransaction({
        receiverId: contractId,
        actions: [
          actions.functionCall(method, args, options.gas ?? 100n * TGAS, options.deposit ?? 0n),
        ],
        waitUntil: "FINAL",
        throwOnFailure: false,
      })) as unknown as TxResponse;
    } catch (error) {
      const text = messageOf(error);
      if (UNREACHABLE.test(text)) this.rpcFailure(what, error);
      return clientError("transaction_failed", `${what} failed: ${panicMessage(text)}`, {
        cause: error,
      });
    }
    const txHash = response.transaction.hash;
    const status = response.status;
    if (typeof status === "object" && status.Failure !== undefined) {
      clientError("transaction_failed", `${what} failed: ${failureText(status.Failure)}`, {
        txHash,
      });
    }
    // A later receipt (a cross-contract call) may fail while the transaction succeeds.
    const failures: string[] = [];
    for (const receipt of response.receipts_outcome) {
      const failure = (receipt.outcome.status as { Failure?: unknown }).Failure;
      if (failure !== undefined) failures.push(failureText(failure));
    }
    if (failures.length > 0 && !options.handlesReceiptFailures) {
      clientError("transaction_failed", `${what} failed: ${failures[0]}`, { txHash });
    }
    return {
      value: decodeValue(status) as T,
      txHash,
      events: eventsOf(response.receipts_outcome.flatMap((r) => r.outcome.logs)),
      failures,
    };
  }

  async blockTimestampNs(): Promise<bigint> {
    try {
      const block = await this.provider.viewBlock({ finality: "final" });
      return BigInt(block.header.timestamp_nanosec);
    } catch (error) {
      return this.rpcFailure("the latest final block", error);
    }
  }
}
