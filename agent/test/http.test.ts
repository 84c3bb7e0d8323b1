/**
 * The provider's endpoint over real HTTP: the envelope upload is refused with short generic errors
 * for a wrong hash, an unknown job, an oversized body or a bad id; a body that is the job's
 * committed input but no envelope is taken and the job failed with bad_request; status, response
 * file and the live stream serve only ciphertext; /health and /v1/attestation answer.
 */
import { MAX_ENVELOPE_BYTES, openResponse, ResponseReader, sha256Hex } from "@gpu-market/protocol";
import { afterEach, describe, expect, it } from "vitest";
import { Endpoint } from "../src/http/server.ts";
import { createLogger } from "../src/log.ts";
import { Blobs } from "../src/store/blobs.ts";
import { created, type Harness, startHarness } from "./support/harness.ts";

let h: Harness;
let endpoint: Endpoint;
let url: string;
const EVIDENCE = new TextEncoder().encode("quote and GPU evidence bytes");

async function start(options: Parameters<typeof startHarness>[0] = {}): Promise<void> {
  h = await startHarness(options);
  endpoint = new Endpoint({
    agent: h.agent,
    sessions: h.sessions,
    blobs: new Blobs(h.dir),
    log: createLogger({ write: (line) => h.logs.push(line) }),
    health: async () => ({ ok: true, queue: h.agent.queue() }),
    evidence: (id) => (id === null || id === "0" ? EVIDENCE : null),
  });
  url = (await endpoint.listen("127.0.0.1", 0)).url;
}

afterEach(async () => {
  await endpoint?.close();
  await h?.close();
});

async function put(id: string, body: Uint8Array | string) {
  const response = await fetch(`${url}/v1/jobs/${id}/request`, { method: "PUT", body });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe("PUT /v1/jobs/{id}/request", () => {
  it("takes the job's envelope (202, then 200 when sent again)", async () => {
    await start();
    const { job, sealed } = await h.createJob("1");
    await h.agent.onJobEvent(created(job));
    expect(await put("1", sealed.envelope)).toMatchObject({ status: 202, body: { job_id: "1" } });
    expect((await put("1", sealed.envelope)).status).toBe(200);
    await h.waitFor("1", ["delivered"]);
  });

  it("refuses with generic errors: bad id, unknown job, wrong hash, oversized body, wrong method", async () => {
    await start();
    const { job, sealed } = await h.createJob("2");
    await h.agent.onJobEvent(created(job));
    expect(await put("x1", sealed.envelope)).toEqual({
      status: 400,
      body: { error: "job id: expected a decimal u64" },
    });
    expect(await put("99999999999999999999", sealed.envelope)).toMatchObject({ status: 400 });
    expect(await put("77", sealed.envelope)).toEqual({
      status: 404,
      body: { error: "no such job waiting on this provider's machines" },
    });
    expect(await put("2", "not the committed bytes")).toEqual({
      status: 400,
      body: { error: "the body's sha256 is not the job's input_hash" },
    });
    const big = new Uint8Array(MAX_ENVELOPE_BYTES + 1);
    expect(await put("2", big)).toEqual({
      status: 413,
      body: { error: `request body: at most ${MAX_ENVELOPE_BYTES} bytes` },
    });
    const post = await fetch(`${url}/v1/jobs/2/request`, { method: "POST", body: sealed.envelope });
    expect(post.status).toBe(405);
    expect(h.agent.view("2")?.status).toBe("waiting_for_request");
    // Still servable after all that.
    expect((await put("2", sealed.envelope)).status).toBe(202);
    await h.waitFor("2", ["delivered"]);
  });

  it("a body that is the committed input but no envelope: taken, then the job fails with bad_request", async () => {
    await start();
    const { job } = await h.createJob("3");
    const garbage = new TextEncoder().encode("garbage that the client committed to");
    h.escrow.add({ ...job, input_hash: sha256Hex(garbage) });
    expect((await put("3", garbage)).status).toBe(202);
    await h.waitFor("3", ["failed"]);
    const status = await (await fetch(`${url}/v1/jobs/3`)).json();
    expect(status).toMatchObject({ status: "failed", failure_code: "bad_request" });
    expect(h.escrow.jobs.get("3")?.failure_code).toBe("bad_request");
  });
});

describe("GET routes", () => {
  it("status, response file and stream: ciphertext only, and the client opens it", async () => {
    await start({ framing: { maxDeltas: 2, maxDelayMs: 60_000 } });
    h.backend.mode = "slow";
    const { job, sealed } = await h.createJob("4");
    await h.agent.onJobEvent(created(job));
    expect(await (await fetch(`${url}/v1/jobs/4`)).json()).toMatchObject({
      status: "waiting_for_request",
    });
    expect((await fetch(`${url}/v1/jobs/4/response`)).status).toBe(409);
    const streaming = fetch(`${url}/v1/jobs/4/stream`);
    await put("4", sealed.envelope);
    const stream = await streaming;
    expect(stream.status).toBe(200);
    const reader = new ResponseReader(sealed.responseKey, sealed.inputHash);
    let streamed = "";
    let text = "";
    const decoder = new TextDecoder();
    for await (const chunk of stream.body as ReadableStream<Uint8Array>) {
      text += decoder.decode(chunk, { stream: true });
      let newline = text.indexOf("\n");
      while (newline >= 0) {
        streamed += reader.open(text.slice(0, newline)).content;
        text = text.slice(newline + 1);
        newline = text.indexOf("\n");
      }
    }
    expect(reader.complete).toBe(true);
    expect(streamed).toBe("The answer is forty-two.");
    await h.waitFor("4", ["delivered"]);

    const response = await fetch(`${url}/v1/jobs/4/response`);
    expect(response.status).toBe(200);
    const file = new Uint8Array(await response.arrayBuffer());
    const view = (await (await fetch(`${url}/v1/jobs/4`)).json()) as { response_sha256: string };
    expect(sha256Hex(file)).toBe(view.response_sha256);
    expect(response.headers.get("x-response-sha256")).toBe(view.response_sha256);
    expect(openResponse(file, sealed.responseKey, sealed.inputHash).content).toBe(
      "The answer is forty-two.",
    );
    expect(new TextDecoder().decode(file)).not.toContain("forty");
    expect((await fetch(`${url}/v1/jobs/5`)).status).toBe(404);
  });

  it("/health, /v1/attestation, unknown routes", async () => {
    await start();
    const health = await fetch(`${url}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ ok: true, queue: { active: 0, max_queue: 8 } });
    const attestation = await fetch(`${url}/v1/attestation?machine_id=0`);
    expect(new Uint8Array(await attestation.arrayBuffer())).toEqual(EVIDENCE);
    expect(attestation.headers.get("x-evidence-sha256")).toBe(sha256Hex(EVIDENCE));
    expect((await fetch(`${url}/v1/attestation?machine_id=7`)).status).toBe(404);
    expect((await fetch(`${url}/v1/attestation?machine_id=x`)).status).toBe(400);
    expect((await fetch(`${url}/v1/nothing`)).status).toBe(404);
  });
});
