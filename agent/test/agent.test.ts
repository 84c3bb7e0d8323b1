/**
 * The agent's job flow over real stores, the escrow double and a test OpenAI-compatible backend:
 * a job goes from the chain event and the uploaded envelope to a delivery whose receipt the
 * (double of the) escrow verifies and whose answer only the client opens; each job it cannot serve
 * is failed with its signed code; a request that does not decrypt never stops the agent.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { openResponse, verifyReceipt } from "@gpu-market/protocol";
import { afterEach, describe, expect, it } from "vitest";
import { created, type Harness, OTHER_MODEL, startHarness } from "./support/harness.ts";

let h: Harness;
afterEach(async () => {
  await h?.close();
});

async function answerOf(id: string, responseKey: Uint8Array, inputHash: string): Promise<string> {
  const record = h.agent.record(id);
  const hash = record?.delivery?.receipt.response_sha256 ?? "";
  const file = new Uint8Array(readFileSync(join(h.dir, "responses", hash)));
  return openResponse(file, responseKey, inputHash).content;
}

describe("the agent serves a job", () => {
  it("accepts once the envelope is in, runs, seals, signs and delivers", async () => {
    h = await startHarness({ framing: { maxDeltas: 4, maxDelayMs: 60_000 } });
    const { job, sealed } = await h.createJob("1");
    await h.agent.onJobEvent(created(job));
    expect(h.agent.view("1")?.status).toBe("waiting_for_request");
    expect(h.escrow.count("accept", "1")).toBe(0);

    const result = await h.agent.submitEnvelope("1", sealed.envelope);
    expect(result).toMatchObject({ ok: true, stored: true });
    await h.waitFor("1", ["delivered"]);

    expect(h.escrow.jobs.get("1")?.status).toBe("delivered");
    expect(h.escrow.count("accept", "1")).toBe(1);
    expect(h.escrow.count("deliver", "1")).toBe(1);
    const delivery = h.escrow.receipts.get("1");
    expect(delivery?.receipt).toMatchObject({
      model: "tiny-llama",
      request_sha256: sealed.inputHash,
      prompt_tokens: "11",
      completion_tokens: "6",
    });
    expect(
      verifyReceipt(
        {
          escrow: h.escrow.escrow,
          job_id: "1",
          ...(delivery?.receipt as NonNullable<typeof delivery>["receipt"]),
        },
        delivery?.signature ?? "",
        h.keys.signingKey,
      ),
    ).toBe(true);
    expect(await answerOf("1", sealed.responseKey, sealed.inputHash)).toBe(
      "The answer is forty-two.",
    );
    // The backend got the plaintext request with usage asked for, under the keyset's model name.
    expect(h.backend.requests[0]).toMatchObject({
      model: "tiny-llama",
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: "user", content: "What is six times seven?" }],
    });
    expect(h.agent.view("1")).toMatchObject({ status: "delivered", frames: 2 });
  });

  it("takes an envelope before the chain event (adopting the job from the chain) and twice", async () => {
    h = await startHarness();
    const { sealed } = await h.createJob("2");
    expect(await h.agent.submitEnvelope("2", sealed.envelope)).toMatchObject({
      ok: true,
      stored: true,
    });
    expect(await h.agent.submitEnvelope("2", sealed.envelope)).toMatchObject({
      ok: true,
      stored: false,
    });
    await h.waitFor("2", ["delivered"]);
    expect(h.escrow.count("deliver", "2")).toBe(1);
  });

  it("closes a waiting job the client cancels (from the chain's event)", async () => {
    h = await startHarness();
    const { job, sealed } = await h.createJob("7");
    await h.agent.onJobEvent(created(job));
    const cancelled = { ...job, status: "refunded" as const };
    h.escrow.add(cancelled);
    await h.agent.onJobEvent({ event: "job_cancelled", job: cancelled, height: 2 });
    await h.waitFor("7", ["closed"]);
    expect(await h.agent.submitEnvelope("7", sealed.envelope)).toEqual({
      ok: false,
      reason: "not_waiting",
    });
    expect(h.escrow.calls).toEqual([]);
  });

  it("refuses an envelope of another hash, and jobs that are not its own", async () => {
    h = await startHarness();
    const { job, sealed } = await h.createJob("3");
    await h.agent.onJobEvent(created(job));
    const other = await h.createJob("4");
    expect(await h.agent.submitEnvelope("3", other.sealed.envelope)).toEqual({
      ok: false,
      reason: "hash_mismatch",
    });
    expect(await h.agent.submitEnvelope("99", sealed.envelope)).toEqual({
      ok: false,
      reason: "unknown_job",
    });
    h.escrow.add({ ...job, id: "5", provider: "mallory.test.near" });
    expect(await h.agent.submitEnvelope("5", sealed.envelope)).toEqual({
      ok: false,
      reason: "unknown_job",
    });
    h.escrow.add({
      ...job,
      id: "6",
      machine_public_key: "ed25519:11111111111111111111111111111111",
    });
    await h.agent.onJobEvent(
      created({ ...job, id: "6", machine_public_key: "ed25519:11111111111111111111111111111111" }),
    );
    expect(h.agent.record("6")).toBeUndefined();
  });
});

describe("the agent fails what it cannot serve, with the signed code", () => {
  it("a request that does not decrypt for the job: bad_request, and the agent stays up", async () => {
    h = await startHarness();
    // Sealed for another client: the envelope is the job's (its hash is the input_hash) but opens for no one here.
    const { sealed } = await h.createJob("10", { client: "eve.test.near" });
    const { job } = await h.createJob("11");
    h.escrow.add({ ...job, id: "10", input_hash: sealed.inputHash });
    await h.agent.submitEnvelope("10", sealed.envelope);
    expect(await h.waitFor("10", ["failed"])).toBe("failed");
    expect(h.escrow.jobs.get("10")).toMatchObject({
      status: "refunded",
      failure_code: "bad_request",
    });
    expect(h.escrow.count("accept", "10")).toBe(0);
    expect(h.logs.join("\n")).toContain("decrypt_failed");

    const next = await h.createJob("12");
    await h.agent.submitEnvelope("12", next.sealed.envelope);
    await h.waitFor("12", ["delivered"]);
  });

  it("an envelope that is not an envelope: bad_request", async () => {
    h = await startHarness();
    const { job } = await h.createJob("13");
    const garbage = new TextEncoder().encode('{"not":"an envelope"}');
    const { sha256Hex } = await import("@gpu-market/protocol");
    h.escrow.add({ ...job, input_hash: sha256Hex(garbage) });
    expect(await h.agent.submitEnvelope("13", garbage)).toMatchObject({ ok: true });
    await h.waitFor("13", ["failed"]);
    expect(h.escrow.jobs.get("13")).toMatchObject({
      status: "refunded",
      failure_code: "bad_request",
    });
  });

  it("a request naming another model than the job's: bad_request", async () => {
    h = await startHarness();
    const { job, sealed } = await h.createJob("14", { request: { model: "other" } });
    await h.agent.onJobEvent(created(job));
    await h.agent.submitEnvelope("14", sealed.envelope);
    await h.waitFor("14", ["failed"]);
    expect(h.escrow.jobs.get("14")?.failure_code).toBe("bad_request");
  });

  it("a model it does not serve: model_unavailable at once, before any envelope", async () => {
    h = await startHarness();
    const { job } = await h.createJob("15", { model: OTHER_MODEL });
    await h.agent.onJobEvent(created(job));
    await h.waitFor("15", ["failed"]);
    expect(h.escrow.jobs.get("15")).toMatchObject({
      status: "refunded",
      failure_code: "model_unavailable",
    });
  });

  it("the backend down: backend_unavailable, not accepted", async () => {
    h = await startHarness();
    await h.backend.close();
    const { job, sealed } = await h.createJob("16");
    await h.agent.onJobEvent(created(job));
    await h.agent.submitEnvelope("16", sealed.envelope);
    await h.waitFor("16", ["failed"]);
    expect(h.escrow.jobs.get("16")).toMatchObject({
      status: "refunded",
      failure_code: "backend_unavailable",
    });
    expect(h.escrow.count("accept", "16")).toBe(0);
  });

  it("the backend refusing after the accept: backend_unavailable (5xx) or inference_error (broken stream), no body logged", async () => {
    h = await startHarness();
    h.backend.mode = "http500";
    const a = await h.createJob("17");
    await h.agent.submitEnvelope("17", a.sealed.envelope);
    await h.waitFor("17", ["failed"]);
    expect(h.escrow.jobs.get("17")?.failure_code).toBe("backend_unavailable");
    expect(h.escrow.count("accept", "17")).toBe(1);

    h.backend.mode = "break";
    const b = await h.createJob("18");
    await h.agent.submitEnvelope("18", b.sealed.envelope);
    await h.waitFor("18", ["failed"]);
    expect(h.escrow.jobs.get("18")?.failure_code).toBe("inference_error");
    expect(readdirSync(join(h.dir, "responses", "partial"))).toEqual([]);
    expect(h.logs.join("\n")).not.toContain("six times seven");
  });

  it("a full queue: capacity", async () => {
    h = await startHarness({ maxQueue: 1, parallel: 1 });
    h.backend.mode = "slow";
    const a = await h.createJob("19");
    const b = await h.createJob("20");
    await h.agent.submitEnvelope("19", a.sealed.envelope);
    await h.waitFor("19", ["running"]);
    await h.agent.submitEnvelope("20", b.sealed.envelope);
    await h.waitFor("20", ["failed"]);
    expect(h.escrow.jobs.get("20")?.failure_code).toBe("capacity");
    await h.waitFor("19", ["delivered"]);
  });

  it("no envelope before the accept deadline: never accepted, left for the client to reclaim", async () => {
    h = await startHarness();
    const { job, sealed } = await h.createJob("21", { acceptWithinMs: 3500 });
    await h.agent.onJobEvent(created(job));
    await h.waitFor("21", ["closed"], 10_000);
    expect(h.escrow.calls.filter((c) => c.id === "21")).toEqual([]);
    expect(h.escrow.jobs.get("21")?.status).toBe("requested");
    expect(await h.agent.submitEnvelope("21", sealed.envelope)).toEqual({
      ok: false,
      reason: "not_waiting",
    });
  });
});
