/**
 * Part 4 of the agent bench: requests paid through sessions, on the same stack as the jobs. The
 * client library opens a session (one transaction), sends requests with a voucher each (no
 * transaction), then closes it (the agent's close_session and the client's early settle).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GpuMarket, type MarketSession } from "@gpu-market/client";
import { loadAccountKey } from "../../scripts/src/credentials.ts";
import { ONE_NEAR, type Stack } from "../test/support/stack.ts";
import { median } from "./median.ts";

export interface SessionBenchOptions {
  stack: Stack;
  model: string;
  /** The client accounts (each opens its own session for the in-flight part). */
  clients: string[];
  /** Sequential requests in one session, after one warm-up. */
  runs: number;
  /** Requests in flight at once, spread over one session per client. */
  inFlight: number;
  maxTokens: number;
}

export interface SessionBenchResult {
  open_session_ms: number;
  /** Median of `runs` requests: seal, voucher, HTTP, inference, receipt check, decrypt. */
  request_median_ms: number;
  request_min_ms: number;
  request_max_ms: number;
  tokens: number;
  /** The agent's close_session and the client's settle_session, both final. */
  close_and_settle_ms: number;
  in_flight: { requests: number; sessions: number; elapsed_ms: number; requests_per_s: number };
}

export async function sessionBench(options: SessionBenchOptions): Promise<SessionBenchResult> {
  const { stack, model, clients, runs, inFlight, maxTokens } = options;
  const stateDir = mkdtempSync(join(tmpdir(), "agent-bench-sessions-"));
  const marketOf = (account: string): GpuMarket =>
    new GpuMarket({
      network: { rpcUrl: stack.t.net.rpcUrl },
      registry: stack.registry,
      escrow: stack.escrow,
      account: { accountId: account, signer: loadAccountKey(stack.t.creds, "localnet", account) },
      stateDir: join(stateDir, account),
    });
  const ask = (text: string) => ({
    messages: [{ role: "user" as const, content: text }],
    maxTokens,
    temperature: 0,
  });
  const open = (market: GpuMarket): Promise<MarketSession> =>
    market.openSession({ model, budget: ONE_NEAR / 10n, expiresInSeconds: 1800 });
  try {
    const first = marketOf(clients[0] as string);
    let t = performance.now();
    const session = await open(first);
    const openMs = performance.now() - t;
    await session.chat(ask("warm-up"));
    const times: number[] = [];
    let tokens = 0;
    for (let i = 0; i < runs; i++) {
      t = performance.now();
      const answer = await session.chat(ask(`question ${i}`));
      times.push(performance.now() - t);
      tokens = answer.usage.promptTokens + answer.usage.completionTokens;
    }
    t = performance.now();
    await session.close();
    const closeMs = performance.now() - t;

    // In flight: one session per client, its share of the requests sent one after another (a
    // session's vouchers are cumulative, so its requests are ordered); the sessions run side by side.
    const sessions = await Promise.all(clients.map((client) => open(marketOf(client))));
    const start = performance.now();
    await Promise.all(
      sessions.map(async (s, k) => {
        for (let i = k; i < inFlight; i += sessions.length) {
          await s.chat(ask(`batch question ${i}`));
        }
      }),
    );
    const elapsed = performance.now() - start;
    await Promise.all(sessions.map((s) => s.close()));
    return {
      open_session_ms: Math.round(openMs),
      request_median_ms: Math.round(median(times)),
      request_min_ms: Math.round(Math.min(...times)),
      request_max_ms: Math.round(Math.max(...times)),
      tokens,
      close_and_settle_ms: Math.round(closeMs),
      in_flight: {
        requests: inFlight,
        sessions: sessions.length,
        elapsed_ms: Math.round(elapsed),
        requests_per_s: Number(((inFlight * 1000) / elapsed).toFixed(2)),
      },
    };
  } finally {
    rmSync(stateDir, { recursive: true, force: true });
  }
}
