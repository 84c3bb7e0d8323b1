/**
 * The agent's own ceiling, without a chain: the same Agent, journal, ciphertext store, endpoint
 * and backend client as `provider run`, with the escrow's in-memory double of the unit tests in
 * place of NEAR (calls answer at once). `jobs` jobs are created and uploaded over HTTP together;
 * measured from the first upload to the last delivery. What is left is the agent's work: opening
 * each request (HPKE), the backend's inference, sealing the frames, signing, and the fsync'd
 * journal steps.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import {
  generateMachineSecrets,
  keysetSha256,
  type ModelEntry,
  sealRequest,
} from "@gpu-market/protocol";
import { Agent } from "../src/agent.ts";
import { OpenAiBackend } from "../src/backend/openai.ts";
import { Slots } from "../src/executor/slots.ts";
import { Endpoint } from "../src/http/server.ts";
import { Keyring } from "../src/keys/keyring.ts";
import { createLogger } from "../src/log.ts";
import { SessionService } from "../src/sessions/service.ts";
import { Blobs } from "../src/store/blobs.ts";
import { Journal } from "../src/store/journal.ts";
import { SessionStore } from "../src/store/sessions.ts";
import { FakeEscrow } from "../test/support/fake-escrow.ts";
import { machineKeysOf } from "../test/support/harness.ts";

export async function agentAlone(options: {
  backendUrl: string;
  model: ModelEntry;
  jobs: number;
  parallel: number;
}): Promise<{ jobs: number; elapsed_ms: number; jobs_per_s: number }> {
  const dir = mkdtempSync(join(tmpdir(), "agent-bench-"));
  const escrow = new FakeEscrow();
  const keys = machineKeysOf(generateMachineSecrets());
  const provider = "alice.test.near";
  const keyset = keysetSha256({
    account: provider,
    registry: "registry.test.near",
    signing_key: keys.signingKey,
    encryption_key: keys.encryptionKey,
    models: [options.model],
  });
  const log = createLogger({ level: "warn" });
  const blobs = new Blobs(dir);
  const slots = new Slots(options.parallel);
  const keyring = new Keyring(dir, [keys]);
  const backend = new OpenAiBackend(options.backendUrl);
  const agent = new Agent({
    provider,
    escrow,
    backend,
    journal: new Journal(dir),
    blobs,
    keyring,
    models: [options.model],
    log,
    maxQueue: Math.max(64, options.jobs),
    parallel: options.parallel,
    slots,
  });
  const sessions = new SessionService({
    provider,
    escrow,
    backend,
    store: new SessionStore(dir),
    keyring,
    models: [options.model],
    log,
    slots,
  });
  agent.start();
  const endpoint = new Endpoint({
    agent,
    sessions,
    blobs,
    log,
    health: async () => ({ ok: true }),
    evidence: () => null,
  });
  const { url } = await endpoint.listen("127.0.0.1", 0);
  const sealed = await Promise.all(
    Array.from({ length: options.jobs }, async (_, i) => {
      const id = String(i + 1);
      const client = `client${i}.test.near`;
      const request = await sealRequest(
        {
          escrow: escrow.escrow,
          client,
          machine_id: "0",
          model: options.model.weights_sha256,
          keyset_sha256: keyset,
        },
        keys.encryptionKey,
        {
          model: options.model.name,
          messages: [{ role: "user", content: `question ${i}` }],
          max_tokens: 64,
        },
      );
      escrow.add({
        id,
        client,
        machine_id: "0",
        provider,
        machine_public_key: keys.signingKey,
        keyset_sha256: keyset,
        encryption_key: keys.encryptionKey,
        model_hash: options.model.weights_sha256,
        input_hash: request.inputHash,
        status: "requested",
        accept_deadline: ((BigInt(Date.now()) + 600_000n) * 1_000_000n).toString(),
        deliver_deadline: null,
        failure_code: null,
      });
      return { id, envelope: request.envelope };
    }),
  );
  const start = Date.now();
  await Promise.all(
    sealed.map(async ({ id, envelope }) => {
      const response = await fetch(`${url}/v1/jobs/${id}/request`, {
        method: "PUT",
        body: envelope,
      });
      await response.body?.cancel();
    }),
  );
  while (sealed.some(({ id }) => agent.record(id)?.state !== "delivered")) {
    const failed = sealed.find(({ id }) => agent.record(id)?.state === "failed");
    if (failed !== undefined)
      throw new Error(`job ${failed.id} failed (${agent.record(failed.id)?.failure_code})`);
    await sleep(5);
  }
  const elapsed = Date.now() - start;
  await agent.stop(1000);
  await endpoint.close();
  rmSync(dir, { recursive: true, force: true });
  return {
    jobs: options.jobs,
    elapsed_ms: elapsed,
    jobs_per_s: Number(((options.jobs * 1000) / elapsed).toFixed(2)),
  };
}
