/**
 * NEAR over JSON-RPC (near-api-js 7) for the agent: final-state views and function calls signed
 * by the provider account. Errors come in two kinds, because the agent acts differently on each:
 * a ContractError is the contract refusing (deterministic: retrying cannot help), a
 * ChainUnreachable is the RPC failing, where a call's outcome is unknown until the job is read
 * again.
 *
 * Transactions are signed and handed to the node one at a time, in nonce order, and only then
 * awaited (until final) side by side: many jobs' calls in flight from one access key would
 * otherwise reach the node out of nonce order, and a node drops a transaction whose nonce is
 * below one it has already taken.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { sha256 } from "@noble/hashes/sha2.js";
import {
  Account,
  actions,
  baseEncode,
  encodeTransaction,
  JsonRpcProvider,
  type KeyPairString,
  type SignedTransaction,
} from "near-api-js";

export const TGAS = 10n ** 12n;

export class ContractError extends Error {
  override name = "ContractError";
}

export class ChainUnreachable extends Error {
  override name = "ChainUnreachable";
}

/** near-sdk-js panics carry the JS stack after the message; keep the message. */
function panicMessage(raw: string): string {
  const match = /Smart contract panicked: ([\s\S]*)/.exec(raw);
  const text = match?.[1] ?? raw;
  return text.split(/\n\s+at /)[0]?.trim() ?? text;
}

function failureText(failure: unknown): string {
  const text = JSON.stringify(failure);
  const panic = /"ExecutionError":"((?:[^"\\]|\\.)*)"/.exec(text);
  if (panic?.[1] !== undefined) return panicMessage(JSON.parse(`"${panic[1]}"`) as string);
  return text;
}

const CONTRACT_REFUSAL =
  /Smart contract panicked|ExecutionError|FunctionCallError|MethodNotFound|CodeDoesNotExist|does not exist while viewing/;

function classify(error: unknown, what: string): Error {
  const text = error instanceof Error ? error.message : String(error);
  if (CONTRACT_REFUSAL.test(text)) return new ContractError(`${what}: ${panicMessage(text)}`);
  return new ChainUnreachable(`${what}: ${text}`, { cause: error });
}

interface TxResult {
  status: { SuccessValue?: string; Failure?: unknown } | string;
  transaction: { hash: string };
}

export interface CallResult<T> {
  value: T;
  txHash: string;
}

/** How long a sent transaction is waited for before its outcome is called unknown. */
const FINAL_WAIT_MS = 120_000;

export class NearClient {
  readonly rpcUrl: string;
  readonly accountId: string;
  readonly provider: JsonRpcProvider;
  readonly #key: KeyPairString | null;
  #account: Account | null;
  #sending: Promise<unknown> = Promise.resolve();

  /** `key` null: views only. */
  constructor(rpcUrl: string, accountId: string, key: KeyPairString | null) {
    this.rpcUrl = rpcUrl;
    this.accountId = accountId;
    this.provider = new JsonRpcProvider({ url: rpcUrl });
    this.#key = key;
    this.#account = key === null ? null : new Account(accountId, this.provider, key);
  }

  /** Signs and hands one transaction to the node, after every earlier one was handed over. */
  #send(
    receiverId: string,
    action: ReturnType<typeof actions.functionCall>,
  ): Promise<SignedTransaction> {
    const send = async (): Promise<SignedTransaction> => {
      for (let attempt = 1; ; attempt++) {
        const account = this.#account;
        if (account === null || this.#key === null)
          throw new Error("internal: this client has no signing key");
        const signed = await account.createSignedTransaction({ receiverId, actions: [action] });
        try {
          await this.provider.sendTransactionUntil(signed, "NONE");
          return signed;
        } catch (error) {
          // Another user of this key moved its nonce: start again from the node's.
          if (
            attempt < 3 &&
            /nonce/i.test(error instanceof Error ? `${error.name} ${error.message}` : "")
          ) {
            this.#account = new Account(this.accountId, this.provider, this.#key);
            continue;
          }
          throw error;
        }
      }
    };
    const next = this.#sending.then(send, send);
    this.#sending = next.catch(() => undefined);
    return next;
  }

  /** The transaction's outcome once final (waiting out the RPC's own timeouts). */
  async #final(signed: SignedTransaction): Promise<TxResult> {
    const txHash = baseEncode(sha256(encodeTransaction(signed.transaction)));
    const deadline = Date.now() + FINAL_WAIT_MS;
    for (;;) {
      try {
        return (await this.provider.viewTransactionStatus({
          txHash,
          accountId: this.accountId,
          waitUntil: "FINAL",
        })) as unknown as TxResult;
      } catch (error) {
        const text = error instanceof Error ? `${error.name} ${error.message}` : String(error);
        if (Date.now() > deadline || !/timed? ?out|timeout|unknown ?transaction/i.test(text))
          throw error;
        await sleep(500);
      }
    }
  }

  /** A view at the final block, retried a few times when the RPC does not answer. */
  async view<T>(contractId: string, method: string, args: Record<string, unknown>): Promise<T> {
    const what = `${contractId}.${method}`;
    for (let attempt = 1; ; attempt++) {
      try {
        return (await this.provider.callFunction({
          contractId,
          method,
          args,
          blockQuery: { finality: "final" },
        })) as T;
      } catch (error) {
        const classified = classify(error, what);
        if (classified instanceof ContractError || attempt >= 4) throw classified;
        await sleep(250 * 2 ** attempt);
      }
    }
  }

  /** A signed function call, waited for until final. Throws ContractError or ChainUnreachable. */
  async call<T = unknown>(
    contractId: string,
    method: string,
    args: Record<string, unknown>,
    options: { gas?: bigint; deposit?: bigint } = {},
  ): Promise<CallResult<T>> {
    const what = `${contractId}.${method}`;
    let result: TxResult;
    try {
      const signed = await this.#send(
        contractId,
        actions.functionCall(method, args, options.gas ?? 100n * TGAS, options.deposit ?? 0n),
      );
      result = await this.#final(signed);
    } catch (error) {
      throw classify(error, what);
    }
    const status = result.status;
    if (typeof status === "object" && status.Failure !== undefined) {
      throw new ContractError(`${what}: ${failureText(status.Failure)}`);
    }
    let value: unknown;
    if (typeof status === "object" && status.SuccessValue) {
      const text = Buffer.from(status.SuccessValue, "base64").toString("utf8");
      try {
        value = JSON.parse(text);
      } catch {
        value = text;
      }
    }
    return { value: value as T, txHash: result.transaction.hash };
  }

  /** The final block's height and timestamp (nanoseconds). */
  async finalBlock(): Promise<{ height: number; timestampNs: bigint }> {
    try {
      const block = await this.provider.viewBlock({ finality: "final" });
      return { height: block.header.height, timestampNs: BigInt(block.header.timestamp_nanosec) };
    } catch (error) {
      throw classify(error, "block");
    }
  }
}
