/**
 * NEAR over JSON-RPC (near-api-js 7) for the agent: final-state views and function calls signed
 * by the provider account. Errors come in two kinds, because the agent acts differently on each:
 * a ContractError is the contract refusing (deterministic: retrying cannot help), a
 * ChainUnreachable is the RPC failing, where a call's outcome is unknown until the job is read
 * again.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { Account, actions, JsonRpcProvider, type KeyPairString } from "near-api-js";

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

export class NearClient {
  readonly rpcUrl: string;
  readonly accountId: string;
  readonly provider: JsonRpcProvider;
  readonly #account: Account | null;

  /** `key` null: views only. */
  constructor(rpcUrl: string, accountId: string, key: KeyPairString | null) {
    this.rpcUrl = rpcUrl;
    this.accountId = accountId;
    this.provider = new JsonRpcProvider({ url: rpcUrl });
    this.#account = key === null ? null : new Account(accountId, this.provider, key);
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
    if (this.#account === null) throw new Error("internal: this client has no signing key");
    const what = `${contractId}.${method}`;
    let result: TxResult;
    try {
      result = (await this.#account.signAndSendTransaction({
        receiverId: contractId,
        actions: [
          actions.functionCall(method, args, options.gas ?? 100n * TGAS, options.deposit ?? 0n),
        ],
        waitUntil: "FINAL",
        throwOnFailure: false,
      })) as unknown as TxResult;
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
