/**
 * Sessions end to end on localnet with the real parts: the escrow and registry contracts (built
 * wasm), the model server on the tiny GGUF, the agent started in process as `provider run` starts
 * it, and the client library (@gpu-market/client). A session is opened once, several requests
 * are served with no transaction at all (the client's and the provider's access key nonces do not
 * move), the client closes it with an exact last voucher, the agent closes on-chain, the client
 * settles as the counterparty, and every balance is checked to the yoctoNEAR. A second session is
 * driven by hand to show the agent's refusals charge nothing (unregistered key, replayed voucher,
 * stale nonce, over budget, closed session); a third expires: the agent refuses it, closes it before
 * expiry and settles it after the dispute window, refunding everything. Last, the same through
 * `gpu-market session open|chat|status|list|close --json`.
 */
import { randomUUID } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { GpuMarket, type MarketSession } from "@gpu-market/client";
import type { Session } from "@gpu-market/common/src/escrow-types.ts";
import {
  generateSessionKey,
  parseSessionSecret,
  type SessionReceipt,
  sealSessionRequest,
  sessionQuote,
  signVoucher,
} from "@gpu-market/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadAccountKey } from "../../scripts/src/credentials.ts";
import { freePort } from "../../scripts/src/dev/free-port.ts";
import { createAccount } from "../../scripts/test/support/localnet.ts";
import { runCli } from "../../scripts/test/support/run-cli.ts";
import { parseCommand, type RunConfig } from "../src/config.ts";
import { createLogger } from "../src/log.ts";
import { type RunningProvider, startProvider } from "../src/runtime.ts";
import { runAgentCli } from "./support/children.ts";
import {
  escrowBalance,
  type Machine,
  ONE_NEAR,
  PRICE,
  registerMachine,
  type Stack,
  setBackend,
  startStack,
} from "./support/stack.ts";

const DISPUTE_WINDOW_NS = 4_000_000_000n;
const BUDGET = ONE_NEAR / 100n;
const MAX_TOKENS = 8;

let stack: Stack;
let machine: Machine;
let client: string;
let agent: RunningProvider;
let market: GpuMarket;
let stateDir: string;
const logs: string[] = [];

beforeAll(async () => {
  stack = await startStack({
    dispute_window_ns: DISPUTE_WINDOW_NS.toString(),
    min_session_ns: "1000000000",
  });
  const port = await freePort();
  machine = await registerMachine(stack, "dora", [stack.model], `http://127.0.0.1:${port}`);
  client = await createAccount(stack.t, "erin", 40n);
  const backendUrl = await setBackend(stack, true);
  const dataDir = join(stack.t.dir, "agent-dora");
  const env = { NEAR_CREDENTIALS_DIR: stack.t.creds.dir };
  const parsed = parseCommand(
    [
      "run",
      "--rpc-url",
      stack.t.net.rpcUrl,
      "--block-source",
      stack.t.net.rpcUrl,
      "--account",
      machine.provider,
      "--registry",
      stack.registry,
      "--escrow",
      stack.escrow,
      "--machine-key-file",
      machine.keyFile,
      "--model",
      `tiny-llama=${stack.modelPath}`,
      "--backend-url",
      backendUrl,
      "--listen",
      `127.0.0.1:${port}`,
      "--data-dir",
      dataDir,
    ],
    env,
  );
  agent = await startProvider((parsed as { config: RunConfig }).config, {
    log: createLogger({ json: true, write: (line) => logs.push(line) }),
    env,
    sessionTimings: { requestMarginMs: 2000, closeMarginMs: 1500, sweepMs: 200 },
  });
  stateDir = mkdtempSync(join(tmpdir(), "session-client-"));
  market = new GpuMarket({
    network: { rpcUrl: stack.t.net.rpcUrl },
    registry: stack.registry,
    escrow: stack.escrow,
    account: {
      accountId: client,
      signer: loadAccountKey(stack.t.creds, "localnet", client),
    },
    stateDir,
  });
});

afterAll(async () => {
  await agent?.stop(1000);
  await stack?.stop();
  if (stateDir !== undefined) rmSync(stateDir, { recursive: true, force: true });
});

/** The sum of the account's access key nonces: it moves with every transaction it signs. */
async function nonces(account: string): Promise<bigint> {
  const response = await fetch(stack.t.net.rpcUrl, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      jsonrpc: "2.0",
      id: 1,
      method: "query",
      params: { request_type: "view_access_key_list", finality: "final", account_id: account },
    }),
  });
  const body = (await response.json()) as {
    result: { keys: { access_key: { nonce: number } }[] };
  };
  return body.result.keys.reduce((sum, k) => sum + BigInt(k.access_key.nonce), 0n);
}

async function chainSession(id: string): Promise<Session> {
  return stack.t.chain.view<Session>(stack.escrow, "session", { session_id: id });
}

/** Gas burnt by a transaction and all its receipts. */
async function gasOf(txHash: string, signer: string): Promise<bigint> {
  const outcome = (await stack.t.chain.provider.viewTransactionStatus({
    txHash,
    accountId: signer,
    waitUntil: "FINAL",
  })) as unknown as {
    transaction_outcome: { outcome: { gas_burnt: number } };
    receipts_outcome: { outcome: { gas_burnt: number } }[];
  };
  return outcome.receipts_outcome.reduce(
    (sum, r) => sum + BigInt(r.outcome.gas_burnt),
    BigInt(outcome.transaction_outcome.outcome.gas_burnt),
  );
}

async function balances() {
  return {
    provider: await escrowBalance(stack, machine.provider),
    treasury: await escrowBalance(stack, stack.treasury),
    client: await escrowBalance(stack, client),
  };
}

async function until<T>(read: () => Promise<T>, ok: (value: T) => boolean, what: string) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what}\n${logs.slice(-20).join("\n")}`);
    await sleep(200);
  }
}

const MARKER = `session-marker-${randomUUID()}`;
const ASK = [{ role: "user" as const, content: `Count to three. ${MARKER}` }];
const answers: string[] = [];

function walk(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

describe("sessions on localnet", () => {
  it("open once, several requests with no transaction, close with the exact voucher, settle: balances exact", async () => {
    const session = await market.openSession({
      model: "tiny-llama",
      budget: BUDGET,
      expiresInSeconds: 600,
    });
    const opened = await chainSession(session.id);
    expect(opened).toMatchObject({ status: "open", budget: BUDGET.toString(), claimed: "0" });
    expect(await gasOf(session.state.tx_hashes.open ?? "", client)).toBeLessThan(60n * 10n ** 12n);

    const before = { client: await nonces(client), provider: await nonces(machine.provider) };
    let charged = 0n;
    for (let i = 0; i < 3; i++) {
      const answer = await session.chat({ messages: ASK, maxTokens: MAX_TOKENS, temperature: 0 });
      expect(BigInt(answer.cost)).toBe(
        PRICE * BigInt(answer.usage.promptTokens + answer.usage.completionTokens),
      );
      charged += BigInt(answer.cost);
      answers.push(answer.text);
      expect(answer.charged).toBe(charged.toString());
      expect(answer.budgetLeft).toBe((BUDGET - charged).toString());
    }
    // No transaction by either side while serving: nonces unchanged, nothing recorded on-chain.
    expect({ client: await nonces(client), provider: await nonces(machine.provider) }).toEqual(
      before,
    );
    expect(await chainSession(session.id)).toMatchObject({
      status: "open",
      claimed: "0",
      nonce: "0",
    });
    const view = (await (await fetch(`${agent.url}/v1/sessions/${session.id}`)).json()) as {
      charged: string;
      requests: number;
    };
    expect(view).toMatchObject({ charged: charged.toString(), requests: 3 });

    const start = await balances();
    const closed = await session.close();
    const fee = (charged * BigInt(stack.feeBps)) / 10_000n;
    expect(closed).toMatchObject({
      status: "settled",
      claimed: charged.toString(),
      refund: (BUDGET - charged).toString(),
      providerPayout: (charged - fee).toString(),
      fee: fee.toString(),
    });
    const end = await balances();
    expect(end.provider - start.provider).toBe(charged - fee);
    expect(end.treasury - start.treasury).toBe(fee);
    expect(end.client - start.client).toBe(BUDGET - charged);
    expect(await chainSession(session.id)).toMatchObject({
      status: "settled",
      closed_by: "provider",
      settled_by: "counterparty",
      nonce: "4",
    });
    // Gas of the two client transactions of a session (open, settle), measured on the real wasm.
    expect(await gasOf(closed.txHashes.settle ?? "", client)).toBeLessThan(30n * 10n ** 12n);
    // The agent's own close_session (with the voucher): the only transaction it sent.
    expect((await nonces(machine.provider)) - before.provider).toBe(1n);
  });

  it("the agent's refusals charge nothing: unregistered key, replayed voucher, stale nonce, over budget, closed session", async () => {
    const session: MarketSession = await market.openSession({
      model: "tiny-llama",
      budget: BUDGET,
      expiresInSeconds: 600,
    });
    const state = JSON.parse(
      readFileSync(join(stateDir, "sessions", stack.escrow, client, `${session.id}.json`), "utf8"),
    ) as { client_secret: string };
    const secret = parseSessionSecret(state.client_secret);
    const sign = (amount: bigint, nonce: number, key = secret) => ({
      amount: amount.toString(),
      nonce: String(nonce),
      signature: signVoucher(
        {
          escrow: stack.escrow,
          session_id: session.id,
          amount: amount.toString(),
          nonce: String(nonce),
        },
        key,
      ),
    });
    const seal = () =>
      sealSessionRequest(
        {
          escrow: stack.escrow,
          client,
          machine_id: machine.machineId,
          model: stack.model.weights_sha256,
          keyset_sha256: machine.keysetSha256,
          session_id: session.id,
        },
        machine.encryptionKey,
        { model: "tiny-llama", messages: ASK, max_tokens: MAX_TOKENS },
      );
    const post = async (path: string, body: unknown) => {
      const response = await fetch(`${agent.url}/v1/sessions/${session.id}/${path}`, {
        method: "POST",
        body: JSON.stringify(body),
      });
      const text = await response.text();
      const lines = text.split("\n").filter((l) => l !== "");
      return { status: response.status, last: JSON.parse(lines.at(-1) ?? "null") };
    };
    const request = async (voucher: ReturnType<typeof sign>) => {
      const sealed = await seal();
      return post("requests", {
        envelope: Buffer.from(sealed.envelope).toString("utf8"),
        model: stack.model.weights_sha256,
        voucher,
      });
    };
    const agentCharged = async () =>
      (
        (await (await fetch(`${agent.url}/v1/sessions/${session.id}`)).json()) as {
          charged: string;
        }
      ).charged;

    const sealed = await seal();
    const quote = sessionQuote(PRICE, sealed.requestBytes, MAX_TOKENS);
    const good = sign(quote, 1);
    const served = await request(good);
    expect(served.status).toBe(200);
    const charged = BigInt((served.last as { receipt: SessionReceipt }).receipt.charged);
    const refusals: [string, ReturnType<typeof sign>, number, string][] = [
      [
        "an unregistered key",
        sign(charged + quote, 2, generateSessionKey().secret),
        403,
        "bad_signature",
      ],
      ["the replayed voucher", good, 409, "stale_nonce"],
      ["a stale nonce", sign(charged + quote, 1), 409, "stale_nonce"],
      ["over the budget", sign(BUDGET + 1n, 2), 402, "over_budget"],
      ["short of charged + quote", sign(charged, 2), 402, "voucher_too_low"],
    ];
    for (const [what, voucher, status, code] of refusals) {
      const answer = await request(voucher);
      expect({ what, status: answer.status, code: answer.last?.code }).toEqual({
        what,
        status,
        code,
      });
      expect(await agentCharged()).toBe(charged.toString());
    }
    // Close with a voucher for exactly what was charged; then a request to the closed session.
    const closed = await post("close", { voucher: sign(charged, 2) });
    expect(closed.status).toBe(200);
    expect(closed.last).toMatchObject({ status: "closing", claimed: charged.toString() });
    const late = await request(sign(BUDGET, 3));
    expect({ status: late.status, code: late.last?.code }).toEqual({
      status: 409,
      code: "session_not_open",
    });
    const start = await balances();
    await stack.t.chain.call(client, stack.escrow, "settle_session", { session_id: session.id });
    const end = await balances();
    const fee = (charged * BigInt(stack.feeBps)) / 10_000n;
    expect(end.provider - start.provider).toBe(charged - fee);
    expect(end.client - start.client).toBe(BUDGET - charged);
  });

  it("an expiring session: refused at the agent, closed by it before expiry, settled after the dispute window with everything refunded", async () => {
    const session = await market.openSession({
      model: "tiny-llama",
      budget: BUDGET,
      expiresInSeconds: 2,
    });
    const start = await balances();
    // The client does not even send it (the margin), and the agent would refuse it.
    const error = await session.chat({ messages: ASK, maxTokens: MAX_TOKENS }).catch((e) => e);
    expect((error as { code?: string }).code).toBe("session_unavailable");
    const key = parseSessionSecret(
      (
        JSON.parse(
          readFileSync(
            join(stateDir, "sessions", stack.escrow, client, `${session.id}.json`),
            "utf8",
          ),
        ) as { client_secret: string }
      ).client_secret,
    );
    const sealed = await sealSessionRequest(
      {
        escrow: stack.escrow,
        client,
        machine_id: machine.machineId,
        model: stack.model.weights_sha256,
        keyset_sha256: machine.keysetSha256,
        session_id: session.id,
      },
      machine.encryptionKey,
      { model: "tiny-llama", messages: ASK, max_tokens: MAX_TOKENS },
    );
    const amount = BUDGET.toString();
    const response = await fetch(`${agent.url}/v1/sessions/${session.id}/requests`, {
      method: "POST",
      body: JSON.stringify({
        envelope: Buffer.from(sealed.envelope).toString("utf8"),
        model: stack.model.weights_sha256,
        voucher: {
          amount,
          nonce: "1",
          signature: signVoucher(
            { escrow: stack.escrow, session_id: session.id, amount, nonce: "1" },
            key,
          ),
        },
      }),
    });
    expect(response.status).toBe(409);
    expect(((await response.json()) as { code: string }).code).toBe("session_expiring");
    const closing = await until(
      () => chainSession(session.id),
      (s) => s.status !== "open",
      "the agent never closed the expiring session",
    );
    expect(closing).toMatchObject({ status: "closing", closed_by: "provider", claimed: "0" });
    expect(BigInt(closing.closing_at ?? "0")).toBeLessThan(BigInt(closing.expires_at));
    const settled = await until(
      () => chainSession(session.id),
      (s) => s.status === "settled",
      "the agent never settled it after the dispute window",
    );
    expect(settled).toMatchObject({
      settled_by: "dispute_window",
      client_refund: BUDGET.toString(),
    });
    const end = await balances();
    expect(end.client - start.client).toBe(BUDGET);
    expect(end.provider - start.provider).toBe(0n);
  });

  it("gpu-market session open, chat, status, list, close (--json)", async () => {
    const cliState = mkdtempSync(join(tmpdir(), "session-cli-"));
    const common = [
      "--network",
      "localnet",
      "--rpc-url",
      stack.t.net.rpcUrl,
      "--registry",
      stack.registry,
      "--escrow",
      stack.escrow,
      "--account",
      client,
      "--state-dir",
      cliState,
      "--json",
    ];
    const env = { NEAR_CREDENTIALS_DIR: stack.t.creds.dir };
    const run = async (args: string[]) => {
      const result = await runCli(["session", ...args, ...common], env);
      expect(result.code, result.stderr).toBe(0);
      return JSON.parse(result.stdout) as Record<string, string>;
    };
    try {
      const opened = await run(["open", "--model", "tiny-llama", "--budget", "0.01"]);
      expect(opened).toMatchObject({ ok: true, budget: BUDGET.toString(), status: "open" });
      const id = opened.session_id as string;
      const chat = await run(["chat", id, "--prompt", "Hi", "--max-tokens", String(MAX_TOKENS)]);
      expect(BigInt(chat.budget_left as string)).toBe(BUDGET - BigInt(chat.charged as string));
      const status = await run(["status", id]);
      expect(status).toMatchObject({ status: "open", charged: chat.charged, claimed: "0" });
      const list = (await run(["list"])) as unknown as { sessions: { session_id: string }[] };
      expect(list.sessions.map((x) => x.session_id)).toEqual([id]);
      const closed = await run(["close", id]);
      expect(closed).toMatchObject({
        status: "settled",
        claimed: chat.charged,
        refund: (BUDGET - BigInt(chat.charged as string)).toString(),
      });
      const refused = await runCli(["session", "chat", id, "--prompt", "Hi", ...common], env);
      expect(refused.code).toBe(1);
      expect(JSON.parse(refused.stdout)).toMatchObject({
        ok: false,
        details: { code: "session_unavailable", session_id: id },
      });
    } finally {
      rmSync(cliState, { recursive: true, force: true });
    }
  });

  it("gpu-market provider status lists the sessions: status, budget, charged, budget left", async () => {
    // The agent learns the client's settlements from the chain's events: wait for the last one.
    const read = async () => {
      const status = await runAgentCli(
        ["status", "--data-dir", join(stack.t.dir, "agent-dora"), "--json"],
        { NEAR_CREDENTIALS_DIR: stack.t.creds.dir },
      );
      expect(status.code, status.stderr).toBe(0);
      return (JSON.parse(status.stdout) as { sessions: Record<string, unknown>[] }).sessions;
    };
    const sessions = await until(
      read,
      (list) => list.length === 4 && list.every((x) => x.status === "settled"),
      "the agent did not learn every settlement",
    );
    expect(sessions).toHaveLength(4);
    for (const session of sessions) {
      expect(session).toMatchObject({ status: "settled", budget: BUDGET.toString() });
      expect(BigInt(session.budget_left as string)).toBe(
        BUDGET - BigInt(session.charged as string),
      );
    }
    expect(sessions.filter((x) => x.charged !== "0").length).toBe(3);
  });

  it("the agent's side holds no plaintext of a session: not in its logs or its data dir", () => {
    const needles = [MARKER, ...answers.filter((a) => a.length >= 8)];
    const files = walk(join(stack.t.dir, "agent-dora"));
    expect(files.some((f) => f.includes(`${join("sessions", "")}`))).toBe(true);
    for (const needle of needles) {
      expect(logs.join("\n")).not.toContain(needle);
      const found = files.filter((f) => readFileSync(f, "latin1").includes(needle));
      expect(found, `"${needle}" found in`).toEqual([]);
    }
  });
});
