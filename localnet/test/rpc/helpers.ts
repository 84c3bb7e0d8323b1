/**
 * Test helpers: a localnet on the fake runtime, raw JSON-RPC calls whose every response is checked
 * against @near-js/jsonrpc-types' schema for its method, and near-api-js 7 accounts.
 */
import { VALIDATION_SCHEMA_MAP } from "@near-js/jsonrpc-types";
import { Account, JsonRpcProvider, KeyPair, KeyPairSigner } from "near-api-js";
import { type Localnet, startLocalnet } from "../../src/index.ts";
import type { RuntimeApi } from "../../src/node/runtime-api.ts";
import { fakeRuntime } from "../node/fake-runtime.ts";

export const ONE_NEAR = 10n ** 24n;

function camel(key: string): string {
  return key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** The schemas are written for camelCase keys (the TS client converts); convert likewise. */
export function toCamel(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(toCamel);
  if (typeof value !== "object" || value === null) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [camel(k), toCamel(v)]));
}

type SchemaMap = Record<
  string,
  { responseSchema: () => { safeParse(v: unknown): { success: boolean; error?: unknown } } }
>;

/** Throws when a JSON-RPC response does not match its method's schema. */
export function checkSchema(method: string, response: unknown): void {
  const entry = (VALIDATION_SCHEMA_MAP as unknown as SchemaMap)[method];
  if (!entry) return;
  // nearcore answers a failed view call or a missing access key with a *result* holding `error`
  // (kept for old clients); the schema does not describe that form.
  const result = (response as { result?: { error?: unknown } }).result;
  if (method === "query" && typeof result?.error === "string") return;
  // A transaction not yet executed is answered with its status alone, as nearcore does (the
  // outcome is an absent Option); the schema requires the outcome.
  if (result && Object.keys(result).join() === "final_execution_status") return;
  const outcome = entry.responseSchema().safeParse(toCamel(response));
  if (!outcome.success) {
    throw new Error(
      `${method} response does not match its schema: ${String(outcome.error)}\n${JSON.stringify(response).slice(0, 2000)}`,
    );
  }
}

export interface RpcAnswer {
  result?: unknown;
  error?: {
    name: string;
    cause: { name: string; info?: Record<string, unknown> };
    code: number;
    message: string;
    data?: unknown;
  };
}

/** A raw JSON-RPC call; the response is checked against the method's schema. */
export async function rpc(url: string, method: string, params: unknown): Promise<RpcAnswer> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: "test", method, params }),
  });
  if (response.status !== 200) throw new Error(`${method}: HTTP ${response.status}`);
  const body = (await response.json()) as RpcAnswer;
  checkSchema(method, body);
  return body;
}

/** A result, or a thrown error naming the RPC error. */
export async function rpcResult<T = Record<string, unknown>>(
  url: string,
  method: string,
  params: unknown,
): Promise<T> {
  const answer = await rpc(url, method, params);
  if (answer.error) throw new Error(`${method} failed: ${JSON.stringify(answer.error)}`);
  return answer.result as T;
}

export interface TestNet {
  net: Localnet;
  provider: JsonRpcProvider;
  validator: Account;
}

/** A localnet on the fake runtime (or `runtime`), without idle blocks unless asked. */
export async function startTestNet(
  runtime: RuntimeApi = fakeRuntime(),
  blockIntervalMs = 0,
): Promise<TestNet> {
  const net = await startLocalnet({ runtime, blockIntervalMs, txTimeoutMs: 3_000 });
  const provider = new JsonRpcProvider({ url: net.rpcUrl });
  const validator = new Account(
    "test.near",
    provider,
    KeyPairSigner.fromSecretKey(
      net.accounts.validator.secretKey as Parameters<typeof KeyPairSigner.fromSecretKey>[0],
    ),
  );
  return { net, provider, validator };
}

export function randomKey(): KeyPair {
  return KeyPair.fromRandom("ed25519");
}
