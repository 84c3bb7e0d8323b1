import { describe, expect, test } from "vitest";
import { QueueFullError, SerialQueue } from "../src/server/queue.ts";

/** A task that runs until `finish` is called, recording when it started. */
function gate(log: string[], name: string) {
  let finish = () => {};
  const done = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const task = async () => {
    log.push(`start ${name}`);
    await done;
    log.push(`end ${name}`);
    return name;
  };
  return { task, finish: () => finish() };
}

describe("SerialQueue", () => {
  test("one task at a time, in arrival order; beyond maxWaiting it refuses at once", async () => {
    const queue = new SerialQueue(2);
    const log: string[] = [];
    const [a, b, c] = [gate(log, "a"), gate(log, "b"), gate(log, "c")];
    const runs = [queue.run(a.task), queue.run(b.task), queue.run(c.task)];
    expect([queue.running, queue.queued]).toEqual([1, 2]);
    await expect(queue.run(async () => "d")).rejects.toBeInstanceOf(QueueFullError);
    a.finish();
    b.finish();
    c.finish();
    expect(await Promise.all(runs)).toEqual(["a", "b", "c"]);
    expect(log).toEqual(["start a", "end a", "start b", "end b", "start c", "end c"]);
    expect([queue.running, queue.queued]).toEqual([0, 0]);
  });

  test("a waiting task whose signal aborts leaves the queue; the next one takes its turn", async () => {
    const queue = new SerialQueue(2);
    const log: string[] = [];
    const [a, c] = [gate(log, "a"), gate(log, "c")];
    const hangUp = new AbortController();
    const runA = queue.run(a.task);
    const runB = queue.run(async () => "b", hangUp.signal);
    const runC = queue.run(c.task);
    hangUp.abort(new Error("client closed the connection"));
    await expect(runB).rejects.toThrow("client closed the connection");
    expect(queue.queued).toBe(1);
    a.finish();
    c.finish();
    expect(await Promise.all([runA, runC])).toEqual(["a", "c"]);
    expect(log).toEqual(["start a", "end a", "start c", "end c"]);
  });

  test("a failing task hands the turn on", async () => {
    const queue = new SerialQueue(1);
    const failing = queue.run(async () => {
      throw new Error("boom");
    });
    const next = queue.run(async () => "next");
    await expect(failing).rejects.toThrow("boom");
    expect(await next).toBe("next");
    expect(queue.running).toBe(0);
  });
});
