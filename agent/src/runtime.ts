/**
 * Starts the whole agent from its configuration: keys, models hashed, machines checked against the
 * registry, the journal resumed, the endpoint listening and the chain followed. `stop()` is the
 * clean Ctrl-C: stop reading blocks, stop accepting, let running answers finish (up to the grace
 * period) and deliver, then close the endpoint.
 */
import { readFileSync } from "node:fs";
import type { ModelEntry } from "@gpu-market/protocol";
import { Agent } from "./agent.ts";
import { type Backend, OpenAiBackend } from "./backend/openai.ts";
import { hashModels } from "./backend/weights.ts";
import { ChainClock } from "./chain/clock.ts";
import { loadAccountKey } from "./chain/credentials.ts";
import { Escrow } from "./chain/escrow.ts";
import { Follower } from "./chain/follower.ts";
import { NearClient } from "./chain/near.ts";
import { providerMachines } from "./chain/registry.ts";
import type { RunConfig } from "./config.ts";
import { AgentError, messageOf } from "./errors.ts";
import { Slots } from "./executor/slots.ts";
import { Endpoint, type HealthReport } from "./http/server.ts";
import { Keyring } from "./keys/keyring.ts";
import { readMachineKeyFile } from "./keys/machine-key-file.ts";
import type { Logger } from "./log.ts";
import { planMachines, type ServedMachine } from "./machines.ts";
import { SessionService } from "./sessions/service.ts";
import { Blobs } from "./store/blobs.ts";
import { Cursor } from "./store/cursor.ts";
import { ensureDir } from "./store/files.ts";
import { Journal } from "./store/journal.ts";
import { DAY_MS, pruneFinished } from "./store/retention.ts";
import { SessionStore } from "./store/sessions.ts";

export interface RunningProvider {
  url: string;
  agent: Agent;
  sessions: SessionService;
  machines: ServedMachine[];
  follower: Follower;
  /** Settles when the agent stops; rejects if following the chain failed for good. */
  done: Promise<void>;
  stop(graceMs?: number): Promise<void>;
}

export interface StartOptions {
  log: Logger;
  env?: NodeJS.ProcessEnv;
  /** Another backend client (tests); default: OpenAI-compatible over HTTP at --backend-url. */
  backend?: Backend;
  /** Session timings (tests shorten them): refuse requests / close this long before expiry, sweep period. */
  sessionTimings?: { requestMarginMs?: number; closeMarginMs?: number; sweepMs?: number };
}

export async function startProvider(
  config: RunConfig,
  options: StartOptions,
): Promise<RunningProvider> {
  const { log } = options;
  const keys = config.machineKeyFiles.map(readMachineKeyFile);
  log.info(`hashing ${config.models.length} model weights file(s)`);
  const served = await hashModels(config.models);
  for (const m of served) log.info(`model ${m.name}`, { weights_sha256: m.weights_sha256 });
  const backend = options.backend ?? new OpenAiBackend(config.backendUrl);
  const near = new NearClient(
    config.rpcUrl,
    config.account,
    loadAccountKey(config.network, config.account, options.env),
  );
  const escrow = new Escrow(near, config.escrow);
  let registered: Awaited<ReturnType<typeof providerMachines>>;
  try {
    registered = await providerMachines(near, config.registry, config.account);
  } catch (error) {
    throw new AgentError(
      `cannot read ${config.account}'s machines from ${config.registry}: ${messageOf(error)}`,
      {
        hint: "check --network/--rpc-url and --registry (or the deployment file)",
        cause: error,
      },
    );
  }
  const plan = planMachines({
    account: config.account,
    registry: config.registry,
    keys,
    registered,
    served,
    evidence: config.evidenceFiles.map((path) => ({
      path,
      bytes: new Uint8Array(readFileSync(path)),
    })),
  });
  for (const warning of plan.warnings) log.warn(warning);
  for (const m of plan.machines) {
    log.info(`serving machine ${m.id}`, {
      machine: m.id,
      keyset_sha256: m.keyset_sha256,
      models: m.models.map((e) => e.name).join(","),
      evidence: m.evidence !== null,
    });
  }
  const models: ModelEntry[] = served.filter((s) =>
    plan.machines.some((m) => m.models.some((e) => e.weights_sha256 === s.weights_sha256)),
  );

  ensureDir(config.dataDir);
  const journal = new Journal(config.dataDir);
  const blobs = new Blobs(config.dataDir);
  const cursor = new Cursor(config.dataDir);
  const keyring = new Keyring(config.dataDir, keys);
  if (keyring.previousCount > 0)
    log.info(`keeping ${keyring.previousCount} previous machine key(s) until their jobs close`);
  const clock = new ChainClock();
  try {
    clock.observe((await near.finalBlock()).timestampNs);
  } catch (error) {
    log.warn("cannot read the final block's time; the wall clock stands in until blocks arrive", {
      error,
    });
  }
  // Jobs and session requests share the backend's slots (and the machine keys).
  const slots = new Slots(config.parallel);
  const sessionStore = new SessionStore(config.dataDir);
  const agent = new Agent({
    provider: config.account,
    escrow,
    backend,
    journal,
    blobs,
    keyring,
    models,
    log,
    maxQueue: config.maxQueue,
    parallel: config.parallel,
    slots,
    keysInUse: () =>
      sessionStore
        .unfinished()
        .map((r) => ({ signingKey: r.machine_public_key, encryptionKey: r.encryption_key })),
  });
  const sessions = new SessionService({
    provider: config.account,
    escrow,
    backend,
    store: sessionStore,
    now: () => clock.nowNs(),
    keyring,
    models,
    log,
    slots,
    ...options.sessionTimings,
  });

  const abort = new AbortController();
  const follower = new Follower({
    blockSource: config.blockSource,
    escrow: config.escrow,
    provider: config.account,
    cursor,
    fromHeight: config.fromHeight,
    log,
    onJob: (event) => agent.onJobEvent(event),
    onSession: (event) => sessions.onSessionEvent(event),
    clock,
    signal: abort.signal,
  });
  const started = Date.now();
  const health = async (): Promise<HealthReport> => {
    let backendReport: Record<string, unknown>;
    let backendOk = false;
    try {
      const names = await backend.models();
      backendOk = models.every((m) => names.includes(m.name));
      backendReport = { url: backend.url, ok: backendOk, models: names };
    } catch (error) {
      backendReport = { url: backend.url, ok: false, error: messageOf(error) };
    }
    const { nextHeight, finalHeight, lastBlockAt } = follower.status;
    const following = !abort.signal.aborted && lastBlockAt !== null;
    return {
      ok: backendOk && following,
      account: config.account,
      uptime_s: Math.round((Date.now() - started) / 1000),
      backend: backendReport,
      queue: agent.queue(),
      sessions: {
        open: sessions.list().filter((view) => view.status === "open").length,
      },
      chain: {
        following,
        next_height: nextHeight,
        final_height: finalHeight,
        lag_blocks:
          nextHeight === null || finalHeight === null
            ? null
            : Math.max(0, finalHeight - nextHeight + 1),
        last_block_ms_ago: lastBlockAt === null ? null : Date.now() - lastBlockAt,
      },
      machines: plan.machines.map((m) => ({
        machine_id: m.id,
        keyset_sha256: m.keyset_sha256,
        models: m.models.map((e) => e.name),
        evidence: m.evidence !== null,
      })),
    };
  };
  const endpoint = new Endpoint({
    agent,
    sessions,
    blobs,
    log,
    health,
    evidence: (machineId) => {
      if (machineId === null) {
        if (plan.machines.length !== 1) return "ambiguous";
        return plan.machines[0]?.evidence ?? null;
      }
      return plan.machines.find((m) => m.id === machineId)?.evidence ?? null;
    },
  });
  const address = await endpoint.listen(config.listen.host, config.listen.port);
  agent.start();
  sessions.start();
  const pruning = startPruning(config.retainMs, { journal, sessions: sessionStore, blobs }, log);
  log.info(`provider agent listening on ${address.url}`, {
    account: config.account,
    machines: plan.machines.length,
    backend: backend.url,
  });

  let stopping: Promise<void> | null = null;
  const stop = (graceMs = 30_000): Promise<void> => {
    stopping ??= (async () => {
      log.info("stopping: no new jobs; running answers get a grace period", { grace_ms: graceMs });
      abort.abort();
      if (pruning !== null) clearInterval(pruning);
      await Promise.all([agent.stop(graceMs), sessions.stop(graceMs)]);
      await endpoint.close();
      log.info("stopped");
    })();
    return stopping;
  };
  const done = follower.run().then(
    () => stopping ?? undefined,
    async (error) => {
      if (abort.signal.aborted) return stopping ?? undefined;
      log.error("following the chain failed", { error });
      await stop();
      throw error;
    },
  );
  return { url: address.url, agent, sessions, machines: plan.machines, follower, done, stop };
}

const PRUNE_EVERY_MS = 3_600_000;

/** Prunes finished work past `retainMs` now and every hour; null when everything is kept. */
function startPruning(
  retainMs: number | null,
  stores: Parameters<typeof pruneFinished>[0],
  log: Logger,
): NodeJS.Timeout | null {
  if (retainMs === null) return null;
  const days = retainMs / DAY_MS;
  const prune = () => {
    try {
      const pruned = pruneFinished(stores, retainMs);
      if (pruned.jobs + pruned.sessions > 0) {
        log.info(
          `pruned ${pruned.jobs} job(s) and ${pruned.sessions} session(s) finished over ${days} day(s) ago`,
          { ...pruned },
        );
      }
    } catch (error) {
      // The next pass retries; serving goes on meanwhile.
      log.warn("pruning finished jobs failed", { error });
    }
  };
  prune();
  const timer = setInterval(prune, PRUNE_EVERY_MS);
  timer.unref();
  return timer;
}
