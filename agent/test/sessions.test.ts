/**
 * Sessions at the agent over real HTTP, with the fake escrow's session rules and the test backend:
 * requests paid by vouchers (no chain call after the first read), the signed receipts and their
 * arithmetic, every refusal leaving the stored session as it was, a request that breaks charging
 * nothing, and the on-chain side: close when asked (with the client's exact voucher), close before
 * expiry, claim during a client-started close, settle after the dispute window, resume on restart.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import {
  type ChatRequest,
  generateSessionKey,
  openResponse,
  type SealedRequest,
  type SessionReceipt,
  sealSessionRequest,
  sessionQuote,
  sha256Hex,
  signVoucher,
  verifySessionReceipt,
} from "@gpu-market/protocol";
import { afterEach, describe, expect, it } from "vitest";
import { ChainClock } from "../src/chain/clock.ts";
import { type ChainSession, parseChainSession } from "../src/chain/sessions.ts";
import { Endpoint } from "../src/http/server.ts";
import { createLogger } from "../src/log.ts";
import type { SessionServiceOptions } from "../src/sessions/service.ts";
import { Blobs } from "../src/store/blobs.ts";
import { type Harness, MODEL, OTHER_MODEL, PROVIDER, startHarness } from "./support/harness.ts";

const PRICE = 1000n;
const BUDGET = 10_000_000n;
const CLIENT = "bob.test.near";

let h: Harness;
let endpoint: Endpoint;
let url: string;

async function start(sessionOptions: Partial<SessionServiceOptions> = {}): Promise<void> {
  h = await startHarness({}, sessionOptions);
  endpoint = new Endpoint({
    agent: h.agent,
    sessions: h.sessions,
    blobs: new Blobs(h.dir),
    log: createLogger({ write: (line) => h.logs.push(line) }),
    health: async () => ({ ok: true }),
    evidence: () => null,
  });
  url = (await endpoint.listen("127.0.0.1", 0)).url;
}

afterEach(async () => {
  await endpoint?.close();
  await h?.close();
});

/** A session on the fake escrow for this agent's machine, with a fresh client key. */
function openSession(
  id: string,
  changes: Partial<ChainSession> = {},
): { session: ChainSession; key: ReturnType<typeof generateSessionKey> } {
  const key = generateSessionKey();
  const session: ChainSession = {
    id,
    client: CLIENT,
    payer: CLIENT,
    client_key: key.publicKey,
    machine_id: "0",
    provider: PROVIDER,
    machine_public_key: h.keys.signingKey,
    price_per_unit: PRICE.toString(),
    keyset_sha256: h.keysetSha256,
    encryption_key: h.keys.encryptionKey,
    asset: "NEAR",
    budget: BUDGET.toString(),
    claimed: "0",
    nonce: "0",
    status: "open",
    expires_at: ((BigInt(Date.now()) + 3_600_000n) * 1_000_000n).toString(),
    closed_by: null,
    dispute_deadline: null,
    arbitration_deadline: null,
    provider_payout: null,
    fee: null,
    client_refund: null,
    ...changes,
  };
  h.escrow.addSession(session);
  return { session, key };
}

function voucher(sessionId: string, secret: Uint8Array, amount: bigint, nonce: number) {
  const fields = { amount: amount.toString(), nonce: String(nonce) };
  return {
    ...fields,
    signature: signVoucher({ escrow: h.escrow.escrow, session_id: sessionId, ...fields }, secret),
  };
}

async function seal(
  session: ChainSession,
  request: Partial<ChatRequest> = {},
  binding: Partial<{ session_id: string; client: string }> = {},
): Promise<SealedRequest> {
  return sealSessionRequest(
    {
      escrow: h.escrow.escrow,
      client: session.client,
      machine_id: session.machine_id,
      model: MODEL.weights_sha256,
      keyset_sha256: session.keyset_sha256,
      session_id: session.id,
      ...binding,
    },
    session.encryption_key,
    {
      model: MODEL.name,
      messages: [{ role: "user", content: "What is six times seven?" }],
      max_tokens: 16,
      ...request,
    },
  );
}

function quoteOf(sealed: SealedRequest, maxTokens = 16): bigint {
  return sessionQuote(PRICE, sealed.requestBytes, maxTokens);
}

interface Answer {
  status: number;
  body: Record<string, unknown> | null;
  frames: string[];
  last: Record<string, unknown> | null;
}

async function post(id: string, body: unknown, path = "requests"): Promise<Answer> {
  const response = await fetch(`${url}/v1/sessions/${id}/${path}`, {
    method: "POST",
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await response.text();
  if (response.headers.get("content-type") === "application/json") {
    return { status: response.status, body: JSON.parse(text), frames: [], last: null };
  }
  const lines = text.split("\n").filter((l) => l !== "");
  const last = JSON.parse(lines.at(-1) ?? "null");
  return { status: response.status, body: null, frames: lines.slice(0, -1), last };
}

function requestBody(sealed: SealedRequest, v: ReturnType<typeof voucher>, model = MODEL) {
  return {
    envelope: Buffer.from(sealed.envelope).toString("utf8"),
    model: model.weights_sha256,
    voucher: v,
  };
}

function stored(id: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(h.dir, "sessions", `${id}.json`), "utf8"));
}

async function until(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what}\n${h.logs.join("\n")}`);
    await sleep(10);
  }
}

describe("session requests", () => {
  it("serve one request after another, paid by vouchers: frames, a signed receipt, charged adding up, no chain call after the first read", async () => {
    await start();
    const { session, key } = openSession("1");
    let charged = 0n;
    for (let nonce = 1; nonce <= 3; nonce++) {
      const sealed = await seal(session);
      const amount = charged + quoteOf(sealed);
      const answer = await post("1", requestBody(sealed, voucher("1", key.secret, amount, nonce)));
      expect(answer.status).toBe(200);
      const { receipt, signature } = answer.last as { receipt: SessionReceipt; signature: string };
      expect(verifySessionReceipt(receipt, signature, h.keys.signingKey)).toBe(true);
      const file = new TextEncoder().encode(answer.frames.map((f) => `${f}\n`).join(""));
      expect(receipt.response_sha256).toBe(sha256Hex(file));
      expect(receipt.request_sha256).toBe(sealed.inputHash);
      expect(receipt.request_id).toBe(sealed.requestId);
      expect(receipt).toMatchObject({
        escrow: h.escrow.escrow,
        session_id: "1",
        model: MODEL.name,
        weights_sha256: MODEL.weights_sha256,
        prompt_tokens: "11",
        completion_tokens: "6",
        nonce: String(nonce),
      });
      const opened = openResponse(file, sealed.responseKey, sealed.inputHash);
      expect(opened.content).toBe("The answer is forty-two.");
      charged += PRICE * 17n;
      expect(receipt.charged).toBe(charged.toString());
      // Durable before the receipt was sent.
      expect(stored("1")).toMatchObject({ charged: charged.toString(), nonce: String(nonce) });
    }
    expect(h.escrow.sessionReads).toBe(1);
    expect(h.escrow.sessionCalls).toEqual([]);
    const view = (await (await fetch(`${url}/v1/sessions/1`)).json()) as {
      last_receipt: { receipt: SessionReceipt };
    };
    expect(view).toMatchObject({
      session_id: "1",
      status: "open",
      charged: charged.toString(),
      budget_left: (BUDGET - charged).toString(),
      nonce: "3",
      requests: 3,
    });
    expect(view.last_receipt.receipt.charged).toBe(charged.toString());
  });

  it("refuse with a clear 4xx and change nothing: unknown, someone else's or closed sessions, expiring, bad signature, replayed, stale, over budget, too low, busy, bad body", async () => {
    await start();
    const { session, key } = openSession("2");
    const first = await seal(session);
    const firstAnswer = await post(
      "2",
      requestBody(first, voucher("2", key.secret, quoteOf(first), 5)),
    );
    expect(firstAnswer.status).toBe(200);
    const before = stored("2");
    const requestsBefore = h.backend.requests.length;
    const sealed = await seal(session);
    const covering = BigInt(before.charged as string) + quoteOf(sealed);
    const cases: [string, string, unknown, number, string][] = [
      [
        "an unregistered key",
        "2",
        requestBody(sealed, voucher("2", generateSessionKey().secret, covering, 6)),
        403,
        "bad_signature",
      ],
      [
        "a voucher of another session",
        "2",
        requestBody(sealed, voucher("3", key.secret, covering, 6)),
        403,
        "bad_signature",
      ],
      [
        "a replayed voucher",
        "2",
        requestBody(sealed, voucher("2", key.secret, quoteOf(first), 5)),
        409,
        "stale_nonce",
      ],
      [
        "a stale nonce",
        "2",
        requestBody(sealed, voucher("2", key.secret, covering, 4)),
        409,
        "stale_nonce",
      ],
      [
        "over the budget",
        "2",
        requestBody(sealed, voucher("2", key.secret, BUDGET + 1n, 6)),
        402,
        "over_budget",
      ],
      [
        "short of charged + quote",
        "2",
        requestBody(sealed, voucher("2", key.secret, covering - 1n, 6)),
        402,
        "voucher_too_low",
      ],
      [
        "a request sealed for another session",
        "2",
        requestBody(
          await seal(session, {}, { session_id: "3" }),
          voucher("2", key.secret, covering, 6),
        ),
        400,
        "bad_request",
      ],
      [
        "a model not served",
        "2",
        requestBody(sealed, voucher("2", key.secret, covering, 6), OTHER_MODEL),
        400,
        "model_unavailable",
      ],
      ["not JSON", "2", "{nope", 400, "bad_request"],
      [
        "an unknown session",
        "99",
        requestBody(sealed, voucher("99", key.secret, covering, 6)),
        404,
        "unknown_session",
      ],
    ];
    for (const [what, id, body, status, code] of cases) {
      const answer = await post(id, body);
      expect({ what, status: answer.status, code: answer.body?.code }).toEqual({
        what,
        status,
        code,
      });
      expect(typeof answer.body?.error).toBe("string");
    }
    expect(stored("2")).toEqual(before);
    expect(h.backend.requests.length).toBe(requestsBefore);

    // Someone else's session, a closed one, and one about to expire.
    const other = openSession("4", { provider: "mallory.test.near" });
    const closed = openSession("5", { status: "closing", closed_by: "provider" });
    const expiring = openSession("6", {
      expires_at: ((BigInt(Date.now()) + 10_000n) * 1_000_000n).toString(),
    });
    for (const [id, opened, status, code] of [
      ["4", other, 404, "unknown_session"],
      ["5", closed, 409, "session_not_open"],
      ["6", expiring, 409, "session_expiring"],
    ] as const) {
      const s = await seal(opened.session);
      const answer = await post(id, requestBody(s, voucher(id, opened.key.secret, BUDGET, 1)));
      expect({ id, status: answer.status, code: answer.body?.code }).toEqual({ id, status, code });
    }

    // Busy: one request at a time per session.
    h.backend.mode = "slow";
    const slow = await seal(session);
    const running = post(
      "2",
      requestBody(slow, voucher("2", key.secret, covering + BUDGET / 2n, 6)),
    );
    await until(() => h.backend.requests.length > requestsBefore, "the slow request never started");
    const busy = await post("2", requestBody(sealed, voucher("2", key.secret, BUDGET, 7)));
    expect({ status: busy.status, code: busy.body?.code }).toEqual({ status: 409, code: "busy" });
    expect((await running).status).toBe(200);
  });

  it("a request that breaks mid-stream charges nothing; its voucher's nonce stays used", async () => {
    await start();
    const { session, key } = openSession("7");
    h.backend.mode = "break";
    const sealed = await seal(session);
    const answer = await post(
      "7",
      requestBody(sealed, voucher("7", key.secret, quoteOf(sealed), 1)),
    );
    expect(answer.status).toBe(200);
    expect(answer.last).toMatchObject({ code: "inference_error" });
    expect(stored("7")).toMatchObject({ charged: "0", nonce: "1", requests: 0 });
    h.backend.mode = "ok";
    const again = await post(
      "7",
      requestBody(sealed, voucher("7", key.secret, quoteOf(sealed), 1)),
    );
    expect(again.body?.code).toBe("stale_nonce");
    const next = await seal(session);
    const served = await post("7", requestBody(next, voucher("7", key.secret, quoteOf(next), 2)));
    expect((served.last as { receipt: SessionReceipt }).receipt.charged).toBe(
      (PRICE * 17n).toString(),
    );
  });
});

describe("sessions on-chain", () => {
  it("closes when the client asks, with its exact last voucher, then settles after the dispute window", async () => {
    await start();
    h.escrow.disputeWindowNs = 300_000_000n;
    const { session, key } = openSession("10");
    const sealed = await seal(session);
    const answer = await post(
      "10",
      requestBody(sealed, voucher("10", key.secret, quoteOf(sealed), 1)),
    );
    const charged = BigInt((answer.last as { receipt: SessionReceipt }).receipt.charged);
    expect(charged).toBeLessThan(quoteOf(sealed));
    // A closing voucher must still be fresh and cover what was charged.
    const low = await post("10", { voucher: voucher("10", key.secret, charged - 1n, 2) }, "close");
    expect(low.body?.code).toBe("voucher_too_low");
    const forged = await post(
      "10",
      { voucher: voucher("10", generateSessionKey().secret, charged, 2) },
      "close",
    );
    expect(forged.body?.code).toBe("bad_signature");
    expect(h.escrow.sessionCalls).toEqual([]);
    const closed = await post("10", { voucher: voucher("10", key.secret, charged, 2) }, "close");
    expect(closed.status).toBe(200);
    expect(closed.body).toMatchObject({
      status: "closing",
      closed_by: "provider",
      claimed: charged.toString(),
    });
    expect(h.escrow.sessions.get("10")).toMatchObject({
      status: "closing",
      claimed: charged.toString(),
      nonce: "2",
    });
    // No more requests once closing.
    const late = await seal(session);
    const refused = await post("10", requestBody(late, voucher("10", key.secret, BUDGET, 3)));
    expect(refused.body?.code).toBe("session_not_open");
    await until(() => h.escrow.sessions.get("10")?.status === "settled", "never settled");
    const fee = (charged * 100n) / 10_000n;
    expect(h.escrow.sessions.get("10")).toMatchObject({
      provider_payout: (charged - fee).toString(),
      fee: fee.toString(),
      client_refund: (BUDGET - charged).toString(),
    });
    await until(() => stored("10").status === "settled", "the store never learned the settlement");
    expect(h.escrow.countSession("close", "10")).toBe(1);
    expect(h.escrow.countSession("settle", "10")).toBe(1);
  });

  it("closes with its best voucher before the session expires", async () => {
    await start({ requestMarginMs: 1000, closeMarginMs: 800 });
    const { session, key } = openSession("11", {
      expires_at: ((BigInt(Date.now()) + 2_000n) * 1_000_000n).toString(),
    });
    const sealed = await seal(session);
    const amount = quoteOf(sealed);
    expect(
      (await post("11", requestBody(sealed, voucher("11", key.secret, amount, 1)))).status,
    ).toBe(200);
    await until(() => h.escrow.sessions.get("11")?.status === "closing", "never closed", 5000);
    // The best voucher it held: the last one, for charged + that request's quote.
    expect(h.escrow.sessions.get("11")).toMatchObject({ claimed: amount.toString(), nonce: "1" });
    expect(Date.now() * 1e6).toBeLessThan(Number(session.expires_at));
  });

  it("claims its best voucher when the client closes, and an opened session is remembered from its event", async () => {
    await start();
    const { session, key } = openSession("12");
    await h.sessions.onSessionEvent({ event: "session_opened", session });
    expect(stored("12")).toMatchObject({ status: "open", charged: "0" });
    const sealed = await seal(session);
    const amount = quoteOf(sealed);
    await post("12", requestBody(sealed, voucher("12", key.secret, amount, 1)));
    h.escrow.closeByClient("12");
    await h.sessions.onSessionEvent({
      event: "session_closing",
      session: (await h.escrow.session("12")) as ChainSession,
    });
    await until(() => h.escrow.countSession("claim", "12") === 1, "never claimed");
    expect(h.escrow.sessions.get("12")).toMatchObject({
      status: "closing",
      closed_by: "client",
      claimed: amount.toString(),
      nonce: "1",
    });
    // A last voucher during the client's close is claimed too.
    const charged = BigInt(stored("12").charged as string);
    const last = await post("12", { voucher: voucher("12", key.secret, charged, 2) }, "vouchers");
    expect(last.status).toBe(200);
    await until(
      () => h.escrow.countSession("claim", "12") === 2,
      "the last voucher was not claimed",
    );
    expect(h.escrow.sessions.get("12")).toMatchObject({ claimed: charged.toString(), nonce: "2" });
  });

  it("after a restart, resumes from the chain: settles a session whose window has passed", async () => {
    await start();
    h.escrow.disputeWindowNs = 200_000_000n;
    h.escrow.feeBps = 0n;
    const { session, key } = openSession("13");
    const sealed = await seal(session);
    await post("13", requestBody(sealed, voucher("13", key.secret, quoteOf(sealed), 1)));
    await post("13", { voucher: voucher("13", key.secret, PRICE * 17n, 2) }, "close");
    h.restart();
    await until(() => h.escrow.sessions.get("13")?.status === "settled", "never settled");
    expect(h.escrow.sessions.get("13")).toMatchObject({
      provider_payout: (PRICE * 17n).toString(),
      client_refund: (BUDGET - PRICE * 17n).toString(),
    });
  });
});

describe("reading the chain", () => {
  it("a session from a view or an event is checked field by field", async () => {
    await start();
    const { session } = openSession("20");
    expect(parseChainSession({ ...session, extra: 1 }, "session 20")).toEqual(session);
    const bad: [Record<string, unknown>, string][] = [
      [{ ...session, budget: 5 }, "session 20.budget: expected a string"],
      [{ ...session, budget: "-5" }, "session 20.budget: expected a decimal number"],
      [{ ...session, status: "gone" }, 'session 20.status: "gone" is not a session status'],
      [{ ...session, closed_by: "arbiter" }, "session 20.closed_by"],
      [{ ...session, asset: "" }, "session 20.asset"],
      [{ ...session, dispute_deadline: 7 }, "session 20.dispute_deadline"],
    ];
    for (const [value, message] of bad) {
      expect(() => parseChainSession(value, "session 20")).toThrow(message);
    }
  });

  it("the chain clock follows the largest lead of block time over the wall clock", () => {
    const clock = new ChainClock();
    const wall = BigInt(Date.now()) * 1_000_000n;
    expect(clock.nowNs() - wall).toBeLessThan(1_000_000_000n);
    clock.observe(wall + 3_600_000_000_000n);
    clock.observe(wall - 10_000_000_000n); // a block read late lowers nothing
    const lead = clock.nowNs() - BigInt(Date.now()) * 1_000_000n;
    expect(lead > 3_599_000_000_000n && lead <= 3_600_000_000_000n).toBe(true);
  });
});
