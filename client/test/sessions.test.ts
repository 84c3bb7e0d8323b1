/**
 * Sessions from the client's side against an in-memory chain (fake-chain.ts) and the real agent's
 * session service and endpoint (agent/src) over HTTP, with the agent's test backend: infer() opens
 * a session and reuses it with no transaction, chat() checks every receipt, close() pays exactly
 * what the receipts charged and settles at once, the state survives into another client instance
 * (the CLI), a receipt lost on the way is caught up from the agent's signed copy, a tampered
 * receipt stops the session, and what cannot be sent is refused before anything is signed.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { verifySessionReceipt } from "@gpu-market/protocol";
import { afterEach, describe, expect, it } from "vitest";
import { Agent } from "../../agent/src/agent.ts";
import { OpenAiBackend } from "../../agent/src/backend/openai.ts";
import { Slots } from "../../agent/src/executor/slots.ts";
import { Endpoint } from "../../agent/src/http/server.ts";
import { Keyring } from "../../agent/src/keys/keyring.ts";
import { silentLogger } from "../../agent/src/log.ts";
import { SessionService } from "../../agent/src/sessions/service.ts";
import { Blobs } from "../../agent/src/store/blobs.ts";
import { Journal } from "../../agent/src/store/journal.ts";
import { SessionStore } from "../../agent/src/store/sessions.ts";
import { startTestBackend, type TestBackend } from "../../agent/test/support/openai-server.ts";
import { freePort } from "../../scripts/src/dev/free-port.ts";
import { ClientError } from "../src/errors.ts";
import { GpuMarket } from "../src/market.ts";
import { CLIENT, ESCROW, FakeChain } from "./support/fake-chain.ts";
import { type FakeMachine, fakeMachine, REGISTRY, TINY } from "./support/fake-registry.ts";

const PRICE = 1000n;
const MAX = 10n ** 9n;

interface Setup {
  dir: string;
  chain: FakeChain;
  machine: FakeMachine;
  backend: TestBackend;
  sessions: SessionService;
  market: (fetchImpl?: typeof fetch) => GpuMarket;
  close(): Promise<void>;
}

let s: Setup | undefined;
afterEach(async () => {
  await s?.close();
  s = undefined;
});

async function setup(): Promise<Setup> {
  const dir = mkdtempSync(join(tmpdir(), "client-sessions-"));
  const backend = await startTestBackend({ models: [TINY.name] });
  // The machine registers the agent's URL: the port is chosen first.
  const port = await freePort();
  const machine = fakeMachine(0, {
    endpoint: `http://127.0.0.1:${port}/v1`,
    price: PRICE.toString(),
  });
  const chain = new FakeChain([machine]);
  chain.now = BigInt(Date.now()) * 1_000_000n;
  const log = silentLogger;
  const agentDir = join(dir, "agent");
  const slots = new Slots(2);
  const backendClient = new OpenAiBackend(backend.url);
  const ring = new Keyring(agentDir, [
    {
      signingKey: machine.machine.machine_public_key,
      encryptionKey: (machine.machine as unknown as { encryption_key: string }).encryption_key,
      signing: machine.secrets.signing,
      encryption: machine.secrets.encryption,
    },
  ]);
  const sessions = new SessionService({
    provider: machine.provider.account_id,
    escrow: chain.providerSide(),
    backend: backendClient,
    store: new SessionStore(agentDir),
    keyring: ring,
    models: [TINY],
    log,
    slots,
    sweepMs: 50,
    retryMs: 10,
  });
  sessions.start();
  const agent = new Agent({
    provider: machine.provider.account_id,
    escrow: {
      escrow: ESCROW,
      job: async () => null,
      accept: () => Promise.reject(new Error("no jobs here")),
      deliver: () => Promise.reject(new Error("no jobs here")),
      fail: () => Promise.reject(new Error("no jobs here")),
    },
    backend: backendClient,
    journal: new Journal(agentDir),
    blobs: new Blobs(agentDir),
    keyring: ring,
    models: [TINY],
    log,
    maxQueue: 8,
    parallel: 2,
    slots,
  });
  const endpoint = new Endpoint({
    agent,
    sessions,
    blobs: new Blobs(agentDir),
    log,
    health: async () => ({ ok: true }),
    evidence: () => null,
  });
  await endpoint.listen("127.0.0.1", port);
  return {
    dir,
    chain,
    machine,
    backend,
    sessions,
    market: (fetchImpl) =>
      new GpuMarket({
        registry: REGISTRY,
        escrow: ESCROW,
        chain,
        stateDir: join(dir, "client"),
        ...(fetchImpl === undefined ? {} : { fetch: fetchImpl }),
      }),
    async close() {
      await sessions.stop(100);
      await endpoint.close();
      await backend.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const ASK = {
  model: "tiny-llama",
  messages: [{ role: "user" as const, content: "What is six times seven?" }],
  maxTokens: 16,
  maxAmount: MAX,
};

async function fails(promise: Promise<unknown>, code: string): Promise<ClientError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ClientError);
  expect((error as ClientError).code, (error as Error).message).toBe(code);
  return error as ClientError;
}

function methods(chain: FakeChain): string[] {
  return chain.calls.map((c) => c.method);
}

describe("sessions from the client", () => {
  it("infer() opens a session once and reuses it: no transaction per request, receipts verified, charged adding up", async () => {
    s = await setup();
    const market = s.market();
    const tokens: string[] = [];
    const first = await market.infer({ ...ASK, onToken: (t) => tokens.push(t) });
    expect(first.mode).toBe("session");
    expect(first.opened).toBe(true);
    expect(first.text).toBe("The answer is forty-two.");
    expect(tokens.join("")).toBe(first.text);
    expect(first.txHashes.openSession).toBeDefined();
    expect(methods(s.chain)).toEqual(["open_session"]);
    const session = s.chain.sessions.get(first.sessionId);
    expect(session?.budget).toBe((MAX * 10n).toString());
    expect(
      verifySessionReceipt(first.receipt, first.signature, s.machine.machine.machine_public_key),
    ).toBe(true);
    const cost = PRICE * 17n; // 11 prompt + 6 completion tokens at the session's price
    expect(first.cost).toBe(cost.toString());
    expect(first.charged).toBe(cost.toString());

    const second = await market.infer(ASK);
    expect(second.opened).toBe(false);
    expect(second.sessionId).toBe(first.sessionId);
    expect(second.txHashes).toEqual({});
    expect(second.charged).toBe((2n * cost).toString());
    expect(second.budgetLeft).toBe((MAX * 10n - 2n * cost).toString());
    // Still only the one transaction.
    expect(methods(s.chain)).toEqual(["open_session"]);

    // The key and state: 0600, the secret never in what sessions() lists.
    const file = join(s.dir, "client", "sessions", ESCROW, CLIENT, `${first.sessionId}.json`);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const saved = JSON.parse(readFileSync(file, "utf8"));
    expect(saved).toMatchObject({ charged: (2n * cost).toString(), nonce: "2", requests: 2 });
    expect(saved.client_secret).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(market.sessions())).not.toContain(saved.client_secret);
    // The job path is still there.
    expect(market.session(first.sessionId).state.requests).toBe(2);
  });

  it("close(): a last voucher for exactly what was charged, the agent closes, the client settles at once; the refund is the rest", async () => {
    s = await setup();
    const market = s.market();
    const session = await market.openSession({
      model: "tiny-llama",
      budget: MAX,
      expiresInSeconds: 600,
    });
    const a = await session.chat({ messages: ASK.messages, maxTokens: 16 });
    const b = await session.chat({ messages: ASK.messages, maxTokens: 8 });
    expect(BigInt(b.charged)).toBe(BigInt(a.charged) + BigInt(b.cost));
    const before = s.chain.credited;
    const steps: string[] = [];
    const closed = await session.close((m) => steps.push(m));
    const charged = BigInt(b.charged);
    const fee = (charged * 100n) / 10_000n;
    expect(closed).toMatchObject({
      status: "settled",
      charged: charged.toString(),
      claimed: charged.toString(),
      providerPayout: (charged - fee).toString(),
      fee: fee.toString(),
      refund: (MAX - charged).toString(),
    });
    expect(s.chain.credited - before).toBe(MAX - charged);
    expect(s.chain.sessions.get(session.id)).toMatchObject({
      status: "settled",
      settled_by: "counterparty",
      nonce: "3",
    });
    expect(methods(s.chain)).toEqual(["open_session", "settle_session"]);
    expect(session.state.status).toBe("closed");
    // Closing again reports the same outcome, with no new transaction.
    expect((await session.close()).status).toBe("settled");
    expect(methods(s.chain)).toEqual(["open_session", "settle_session"]);
  });

  it("another client instance (the CLI's next command) continues the session from the state dir", async () => {
    s = await setup();
    const opened = await s.market().openSession({ model: "tiny-llama", budget: MAX });
    await opened.chat({ messages: ASK.messages, maxTokens: 16 });
    const again = s.market().session(opened.id);
    const next = await again.chat({ messages: ASK.messages, maxTokens: 16 });
    expect(next.nonce).toBe("2");
    expect(next.charged).toBe((2n * PRICE * 17n).toString());
    await fails(
      Promise.resolve().then(() => s?.market().session("99")),
      "bad_input",
    );
  });

  it("a receipt lost on the way: the next request catches up from the agent's signed receipt", async () => {
    s = await setup();
    let drop = false;
    const dropping: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      if (!drop || !String(input).endsWith("/requests")) return response;
      drop = false;
      // Everything but the receipt line.
      const text = await response.text();
      const lines = text.split("\n").filter((l) => l !== "");
      return new Response(`${lines.slice(0, -1).join("\n")}\n`, {
        status: 200,
        headers: { "content-type": "application/x-ndjson" },
      });
    };
    const session = await s.market(dropping).openSession({ model: "tiny-llama", budget: MAX });
    drop = true;
    await fails(session.chat({ messages: ASK.messages, maxTokens: 16 }), "endpoint_error");
    expect(session.state.charged).toBe("0");
    const next = await session.chat({ messages: ASK.messages, maxTokens: 16 });
    expect(next.charged).toBe((2n * PRICE * 17n).toString());
    expect(next.nonce).toBe("3");
  });

  it("a tampered receipt stops the session: no more vouchers are signed for it", async () => {
    s = await setup();
    let tamper = false;
    const tampering: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      if (!tamper || !String(input).endsWith("/requests")) return response;
      const text = await response.text();
      return new Response(text.replace(/"charged":"(\d+)"/, '"charged":"1$1"'), {
        status: 200,
        headers: { "content-type": "application/x-ndjson" },
      });
    };
    const session = await s.market(tampering).openSession({ model: "tiny-llama", budget: MAX });
    tamper = true;
    const error = await fails(
      session.chat({ messages: ASK.messages, maxTokens: 16 }),
      "bad_receipt",
    );
    expect(error.message).toContain("signature does not verify");
    tamper = false;
    await fails(session.chat({ messages: ASK.messages, maxTokens: 16 }), "session_unavailable");
  });

  it("refused before anything is signed: a quote above maxAmount or the budget left; the agent's refusals carry its code", async () => {
    s = await setup();
    const market = s.market();
    const session = await market.openSession({ model: "tiny-llama", budget: PRICE * 200n });
    await fails(
      session.chat({ messages: ASK.messages, maxTokens: 16, maxAmount: PRICE }),
      "bad_input",
    );
    await fails(session.chat({ messages: ASK.messages, maxTokens: 500 }), "session_unavailable");
    expect(session.state.nonce).toBe("0");
    await fails(market.infer({ ...ASK, maxAmount: PRICE }), "bad_input");
    // The agent's own refusal: it is shutting down.
    await s.sessions.stop(0);
    const refused = await fails(
      session.chat({ messages: ASK.messages, maxTokens: 16 }),
      "session_refused",
    );
    expect(refused.failureCode).toBe("stopping");
  });
});
