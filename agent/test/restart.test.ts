/**
 * Killed at any point, the agent resumes every job from its journal without double delivery: the
 * old agent is frozen at its next await (its chain calls and backend stream never return, as for
 * a killed process) and a new one starts on the same data dir. Where the crash fell around a chain
 * call (before it landed, or after it landed but before the journal knew), the new agent reads the
 * job on-chain and acts once. A job whose answer had started streaming is failed (refunded), never
 * run twice: its response key and frame nonces are fixed by the request.
 */
import { readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import { Journal } from "../src/store/journal.ts";
import { created, type Harness, startHarness } from "./support/harness.ts";

let h: Harness;
afterEach(async () => {
  await h?.close();
});

async function uploaded(id: string) {
  const { job, sealed } = await h.createJob(id);
  await h.agent.onJobEvent(created(job));
  await h.agent.submitEnvelope(id, sealed.envelope);
  return sealed;
}

describe("restart after a crash", () => {
  it("while accept_job was on its way and did not land: accepts again, delivers once", async () => {
    h = await startHarness();
    h.escrow.hang = { method: "accept", landed: false };
    await uploaded("1");
    await h.waitFor("1", ["accepting"]);
    h.restart();
    await h.waitFor("1", ["delivered"]);
    expect(h.escrow.count("accept", "1")).toBe(2);
    expect(h.escrow.count("deliver", "1")).toBe(1);
  });

  it("after accept_job landed, before the journal knew: runs without accepting again", async () => {
    h = await startHarness();
    h.escrow.hang = { method: "accept", landed: true };
    await uploaded("2");
    await h.waitFor("2", ["accepting"]);
    expect(h.escrow.jobs.get("2")?.status).toBe("accepted");
    h.restart();
    await h.waitFor("2", ["delivered"]);
    expect(h.escrow.count("accept", "2")).toBe(1);
    expect(h.escrow.count("deliver", "2")).toBe(1);
  });

  it("while the answer was streaming: fails the job (refund), never runs it twice", async () => {
    h = await startHarness();
    h.backend.mode = "slow";
    await uploaded("3");
    await h.waitFor("3", ["running"]);
    while (h.backend.requests.length === 0) await sleep(10);
    h.restart();
    await h.waitFor("3", ["failed"]);
    expect(h.escrow.jobs.get("3")).toMatchObject({
      status: "refunded",
      failure_code: "inference_error",
    });
    expect(h.backend.requests).toHaveLength(1);
    expect(h.escrow.count("deliver", "3")).toBe(0);
    expect(readdirSync(join(h.dir, "responses", "partial"))).toEqual([]);
  });

  it("with a job accepted but not started: runs it after the restart (the request opened again from disk)", async () => {
    h = await startHarness({ parallel: 1 });
    h.backend.mode = "slow";
    await uploaded("4");
    await h.waitFor("4", ["running"]);
    await uploaded("5");
    await h.waitFor("5", ["accepted"]);
    h.restart();
    h.backend.mode = "ok";
    await h.waitFor("4", ["failed"]);
    await h.waitFor("5", ["delivered"]);
    expect(h.escrow.count("accept", "5")).toBe(1);
    expect(h.escrow.count("deliver", "5")).toBe(1);
  });

  it("while deliver_job was on its way and did not land: delivers it (once on-chain)", async () => {
    h = await startHarness();
    h.escrow.hang = { method: "deliver", landed: false };
    await uploaded("6");
    await h.waitFor("6", ["sealed"]);
    h.restart();
    await h.waitFor("6", ["delivered"]);
    expect(h.escrow.jobs.get("6")?.status).toBe("delivered");
    expect(h.escrow.count("deliver", "6")).toBe(2);
  });

  it("after deliver_job landed, before the journal knew: does not deliver again", async () => {
    h = await startHarness();
    h.escrow.hang = { method: "deliver", landed: true };
    await uploaded("7");
    await h.waitFor("7", ["sealed"]);
    h.restart();
    await h.waitFor("7", ["delivered"]);
    expect(h.escrow.count("deliver", "7")).toBe(1);
  });

  it("around fail_job: sends it when it did not land, and not again when it did", async () => {
    h = await startHarness();
    await h.backend.close();
    h.escrow.hang = { method: "fail", landed: false };
    await uploaded("8");
    await h.waitFor("8", ["failing"]);
    h.restart();
    await h.waitFor("8", ["failed"]);
    expect(h.escrow.count("fail", "8")).toBe(2);

    h.escrow.hang = { method: "fail", landed: true };
    await uploaded("9");
    await h.waitFor("9", ["failing"]);
    h.restart();
    await h.waitFor("9", ["failed"]);
    expect(h.escrow.count("fail", "9")).toBe(1);
    expect(h.escrow.jobs.get("9")).toMatchObject({
      status: "refunded",
      failure_code: "backend_unavailable",
    });
  });

  it("a journal write cut short leaves the previous record, and its temporary file is removed", async () => {
    h = await startHarness();
    await uploaded("10");
    await h.waitFor("10", ["delivered"]);
    const jobs = join(h.dir, "jobs");
    writeFileSync(join(jobs, "10.json.999.tmp"), '{"id":"10","state":"acc');
    const journal = new Journal(h.dir);
    expect(journal.get("10")?.state).toBe("delivered");
    expect(readdirSync(jobs)).toEqual(["10.json"]);
  });
});
