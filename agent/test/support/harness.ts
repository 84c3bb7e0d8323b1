/**
 * An agent over real stores in a temporary data dir, the fake escrow and a test backend, with a
 * machine's keys and a client that seals requests the way client/ does (protocol's sealRequest).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import {
  type ChatRequest,
  encryptionPublicKey,
  generateMachineSecrets,
  keysetSha256,
  type MachineSecrets,
  type ModelEntry,
  type SealedRequest,
  sealRequest,
  signingPublicKey,
} from "@gpu-market/protocol";
import { Agent, type AgentOptions } from "../../src/agent.ts";
import { type Backend, OpenAiBackend } from "../../src/backend/openai.ts";
import type { ChainJob, EscrowPort } from "../../src/chain/escrow.ts";
import { Slots } from "../../src/executor/slots.ts";
import { Keyring } from "../../src/keys/keyring.ts";
import type { MachineKeys } from "../../src/keys/machine-key-file.ts";
import { createLogger, type Logger } from "../../src/log.ts";
import { SessionService, type SessionServiceOptions } from "../../src/sessions/service.ts";
import { Blobs } from "../../src/store/blobs.ts";
import { Journal, type LocalState } from "../../src/store/journal.ts";
import { SessionStore } from "../../src/store/sessions.ts";
import { FakeEscrow } from "./fake-escrow.ts";
import { startTestBackend, type TestBackend } from "./openai-server.ts";

export const PROVIDER = "alice.test.near";
export const REGISTRY = "registry.test.near";
export const MODEL: ModelEntry = { name: "tiny-llama", weights_sha256: "ab".repeat(32) };
export const OTHER_MODEL: ModelEntry = { name: "other", weights_sha256: "cd".repeat(32) };

export function machineKeysOf(secrets: MachineSecrets): MachineKeys {
  return {
    signingKey: signingPublicKey(secrets.signing),
    encryptionKey: encryptionPublicKey(secrets.encryption),
    signing: secrets.signing,
    encryption: secrets.encryption,
  };
}

export interface Harness {
  dir: string;
  escrow: FakeEscrow;
  backend: TestBackend;
  keys: MachineKeys;
  keysetSha256: string;
  logs: string[];
  agent: Agent;
  /** The session side of the same agent (same data dir, keys, backend and slots). */
  sessions: SessionService;
  /** A new agent over the same data dir (the old one is abandoned, as a killed process). */
  restart(overrides?: Partial<AgentOptions>): Agent;
  /** Creates job `id` on the fake chain, sealed by `client`. */
  createJob(id: string, options?: CreateOptions): Promise<{ job: ChainJob; sealed: SealedRequest }>;
  waitFor(id: string, states: LocalState[], timeoutMs?: number): Promise<LocalState>;
  close(): Promise<void>;
}

export interface CreateOptions {
  client?: string;
  model?: ModelEntry;
  request?: Partial<ChatRequest>;
  acceptWithinMs?: number;
}

export async function startHarness(
  overrides: Partial<AgentOptions> = {},
  sessionOverrides: Partial<SessionServiceOptions> = {},
): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), "agent-test-"));
  const escrow = new FakeEscrow();
  const backend = await startTestBackend({ models: [MODEL.name] });
  const keys = machineKeysOf(generateMachineSecrets());
  const keyset = {
    account: PROVIDER,
    registry: REGISTRY,
    signing_key: keys.signingKey,
    encryption_key: keys.encryptionKey,
    models: [MODEL, OTHER_MODEL],
  };
  const logs: string[] = [];
  const log: Logger = createLogger({ level: "debug", write: (line) => logs.push(line) });
  let kill = () => {};
  let sessions: SessionService | null = null;
  const make = (extra: Partial<AgentOptions>): Agent => {
    const life = { killed: false };
    kill = () => {
      life.killed = true;
    };
    const slots = new Slots(extra.parallel ?? overrides.parallel ?? 2);
    const backendClient = backendFrozenWhenKilled(new OpenAiBackend(backend.url), life);
    sessions = new SessionService({
      provider: PROVIDER,
      escrow,
      backend: backendClient,
      store: new SessionStore(dir),
      keyring: new Keyring(dir, [keys]),
      models: [MODEL],
      log,
      slots,
      retryMs: 10,
      sweepMs: 50,
      ...sessionOverrides,
    });
    sessions.start();
    const agent = new Agent({
      provider: PROVIDER,
      escrow: frozenWhenKilled(escrow, life),
      backend: backendClient,
      journal: new Journal(dir),
      blobs: new Blobs(dir),
      keyring: new Keyring(dir, [keys]),
      models: [MODEL],
      log,
      maxQueue: 8,
      parallel: 2,
      retryMs: 10,
      slots,
      ...overrides,
      ...extra,
    });
    agent.start();
    return agent;
  };
  const harness: Harness = {
    dir,
    escrow,
    backend,
    keys,
    keysetSha256: keysetSha256(keyset),
    logs,
    agent: make({}),
    get sessions(): SessionService {
      if (sessions === null) throw new Error("internal: no session service");
      return sessions;
    },
    restart(extra = {}) {
      kill();
      void sessions?.stop(0);
      harness.agent = make(extra);
      return harness.agent;
    },
    async createJob(id, options = {}) {
      const model = options.model ?? MODEL;
      const client = options.client ?? "bob.test.near";
      const binding = {
        escrow: escrow.escrow,
        client,
        machine_id: "0",
        model: model.weights_sha256,
        keyset_sha256: harness.keysetSha256,
      };
      const sealed = await sealRequest(binding, keys.encryptionKey, {
        model: model.name,
        messages: [{ role: "user", content: "What is six times seven?" }],
        max_tokens: 16,
        ...options.request,
      });
      const job: ChainJob = {
        id,
        client,
        machine_id: "0",
        provider: PROVIDER,
        machine_public_key: keys.signingKey,
        keyset_sha256: harness.keysetSha256,
        encryption_key: keys.encryptionKey,
        model_hash: model.weights_sha256,
        input_hash: sealed.inputHash,
        status: "requested",
        accept_deadline: (
          (BigInt(Date.now()) + BigInt(options.acceptWithinMs ?? 600_000)) *
          1_000_000n
        ).toString(),
        deliver_deadline: null,
        failure_code: null,
      };
      escrow.add(job);
      return { job, sealed };
    },
    async waitFor(id, states, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const state = harness.agent.record(id)?.state;
        if (state !== undefined && states.includes(state)) return state;
        if (Date.now() > deadline) {
          throw new Error(
            `job ${id} is ${state ?? "unknown"}, not ${states.join("|")}\n${logs.join("\n")}`,
          );
        }
        await sleep(10);
      }
    },
    async close() {
      await harness.agent.stop(100);
      await sessions?.stop(100);
      kill();
      await backend.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return harness;
}

const never = () => new Promise<never>(() => {});

/**
 * The escrow as a killed agent sees it: once `life.killed`, every call (and every answer still on
 * its way) never comes back, so the old agent stops at its next await as a killed process would.
 */
function frozenWhenKilled(escrow: EscrowPort, life: { killed: boolean }): EscrowPort {
  const guard = async <T>(call: () => Promise<T>): Promise<T> => {
    if (life.killed) return never();
    try {
      const value = await call();
      return life.killed ? never() : value;
    } catch (error) {
      if (life.killed) return never();
      throw error;
    }
  };
  return {
    escrow: escrow.escrow,
    job: (id) => guard(() => escrow.job(id)),
    accept: (id) => guard(() => escrow.accept(id)),
    deliver: (id, receipt, signature) => guard(() => escrow.deliver(id, receipt, signature)),
    fail: (id, code, signature) => guard(() => escrow.fail(id, code, signature)),
  };
}

function backendFrozenWhenKilled(backend: Backend, life: { killed: boolean }): Backend {
  return {
    url: backend.url,
    async models(signal) {
      if (life.killed) return never();
      const names = await backend
        .models(signal)
        .catch(async (error) => (life.killed ? never() : Promise.reject(error)));
      return life.killed ? never() : names;
    },
    async *chat(request, signal) {
      try {
        for await (const item of backend.chat(request, signal)) {
          if (life.killed) await never();
          yield item;
        }
      } catch (error) {
        if (life.killed) await never();
        throw error;
      }
      if (life.killed) await never();
    },
  };
}

/** The job_created event the follower would hand over. */
export function created(job: ChainJob) {
  return { event: "job_created" as const, job, height: 1 };
}
