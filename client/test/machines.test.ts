import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { ClientError } from "../src/errors.ts";
import { selectMachine } from "../src/machines.ts";
import { FakeChain } from "./support/fake-chain.ts";
import { fakeMachine, OTHER, REGISTRY, TINY } from "./support/fake-registry.ts";

async function rejects(promise: Promise<unknown>, code: string, message: RegExp): Promise<void> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ClientError);
  expect((error as ClientError).code).toBe(code);
  expect((error as ClientError).message).toMatch(message);
}

let server: Server | undefined;
afterEach(() => {
  server?.close();
  server = undefined;
});

async function indexer(ids: string[][]): Promise<{ url: string; queries: URLSearchParams[] }> {
  const queries: URLSearchParams[] = [];
  server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    queries.push(url.searchParams);
    const page = Number(url.searchParams.get("cursor") ?? "0");
    const next = page + 1 < ids.length ? String(page + 1) : null;
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ data: (ids[page] ?? []).map((id) => ({ id })), next_cursor: next }));
  });
  await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, queries };
}

describe("machine selection", () => {
  it("picks the cheapest eligible active machine serving the model, ties to the lowest id", async () => {
    const chain = new FakeChain([
      fakeMachine(0, { price: "500" }),
      fakeMachine(1, { price: "100", eligible: false }),
      fakeMachine(2, { price: "100", status: "inactive" }),
      fakeMachine(3, { price: "100", models: [OTHER] }),
      fakeMachine(4, { price: "300" }),
      fakeMachine(5, { price: "300" }),
      fakeMachine(6, { price: "99999999999999999999999999999999" }),
    ]);
    const chosen = await selectMachine(chain, REGISTRY, { model: "tiny-llama" });
    expect(chosen.machineId).toBe("4");
    expect(chosen.pricePerUnit).toBe("300");
    expect(chosen.model).toEqual(TINY);
    expect(chosen.provider).toBe("p4.test.near");
    expect(chosen.endpoint).toBe("http://127.0.0.1:9/v1");
    expect(chosen.encryptionKey).toMatch(/^x25519:[0-9a-f]{64}$/);
  });

  it("finds a model by its weights sha256, and honours maxPricePerUnit and teeOnly", async () => {
    const chain = new FakeChain([
      fakeMachine(0, { price: "50", teeType: "none-dev", models: [OTHER, TINY] }),
      fakeMachine(1, { price: "70", models: [OTHER, TINY] }),
      fakeMachine(2, { price: "90", models: [OTHER, TINY] }),
    ]);
    const byHash = await selectMachine(chain, REGISTRY, { model: TINY.weights_sha256 });
    expect(byHash.machineId).toBe("0");
    expect(byHash.model.name).toBe("tiny-llama");
    expect(
      (await selectMachine(chain, REGISTRY, { model: "tiny-llama", teeOnly: true })).machineId,
    ).toBe("1");
    await rejects(
      selectMachine(chain, REGISTRY, { model: "tiny-llama", teeOnly: true, maxPricePerUnit: 60n }),
      "no_machine",
      /no eligible machine serves model tiny-llama at most 60 per unit/,
    );
  });

  it("reads the registry in pages of 100 and asks are_eligible 50 ids at a time", async () => {
    const machines = Array.from({ length: 230 }, (_, i) =>
      fakeMachine(i, { price: String(1000 - (i % 200)) }),
    );
    const chain = new FakeChain(machines);
    const chosen = await selectMachine(chain, REGISTRY, { model: "tiny-llama" });
    expect(chosen.machineId).toBe("199");
    const pages = chain.views.filter((v) => v.method === "machines");
    expect(pages.map((v) => v.args.from_index)).toEqual([0, 100, 200]);
    const batches = chain.views.filter((v) => v.method === "are_eligible");
    expect(batches.length).toBe(5);
    for (const b of batches)
      expect((b.args.machine_ids as string[]).length).toBeLessThanOrEqual(50);
  });

  it("says when no machine serves the model", async () => {
    const chain = new FakeChain([
      fakeMachine(0, { models: [OTHER] }),
      fakeMachine(1, { eligible: false }),
    ]);
    await rejects(
      selectMachine(chain, REGISTRY, { model: "tiny-llama" }),
      "no_machine",
      /no eligible machine serves model tiny-llama/,
    );
  });

  it("refuses a given machine that is ineligible, unknown or does not serve the model", async () => {
    const expired = fakeMachine(0, { eligible: false });
    expired.reason = "the attestation of machine 0 expired at 5";
    const chain = new FakeChain([expired, fakeMachine(1, { models: [OTHER] })]);
    await rejects(
      selectMachine(chain, REGISTRY, { model: "tiny-llama", machine: "0" }),
      "machine_ineligible",
      /machine 0 is not eligible: the attestation of machine 0 expired at 5/,
    );
    await rejects(
      selectMachine(chain, REGISTRY, { model: "tiny-llama", machine: "1" }),
      "machine_ineligible",
      /machine 1 does not serve model tiny-llama \(serves: other-model\)/,
    );
    await rejects(
      selectMachine(chain, REGISTRY, { model: "tiny-llama", machine: "7" }),
      "machine_ineligible",
      /unknown machine 7/,
    );
    await rejects(
      selectMachine(chain, REGISTRY, { model: "tiny-llama", machine: "x1" }),
      "bad_input",
      /machine: "x1" is not a machine id/,
    );
    const given = await selectMachine(chain, REGISTRY, { model: "other-model", machine: "1" });
    expect(given.machineId).toBe("1");
  });

  it("refuses a machine whose registry keys do not hash to its keyset_sha256", async () => {
    const m = fakeMachine(0);
    (m.machine as unknown as { encryption_key: string }).encryption_key =
      `x25519:${"42".repeat(32)}`;
    await rejects(
      selectMachine(new FakeChain([m]), REGISTRY, { model: "tiny-llama" }),
      "keyset_mismatch",
      /machine 0: the registry's keys and models hash to [0-9a-f]{64}, not to its keyset_sha256/,
    );
  });

  it("takes candidates from the indexer, cheapest first, and lets the registry decide", async () => {
    const machines = [
      fakeMachine(0, { price: "10", eligible: false }),
      fakeMachine(1, { price: "20", models: [OTHER] }),
      fakeMachine(2, { price: "30" }),
      fakeMachine(3, { price: "40" }),
    ];
    const chain = new FakeChain(machines);
    const api = await indexer([
      ["0", "1"],
      ["2", "3"],
    ]);
    const chosen = await selectMachine(chain, REGISTRY, {
      model: "tiny-llama",
      indexerUrl: api.url,
      maxPricePerUnit: 1000n,
    });
    expect(chosen.machineId).toBe("2");
    expect(api.queries.length).toBe(2);
    expect(api.queries[0]?.get("sort")).toBe("price");
    expect(api.queries[0]?.get("eligible")).toBe("true");
    expect(api.queries[0]?.get("max_price")).toBe("1000");
    // The registry was never listed: the indexer's candidates sufficed.
    expect(chain.views.some((v) => v.method === "machines")).toBe(false);
  });

  it("falls back to the registry when the indexer is down or knows no fitting machine", async () => {
    const chain = new FakeChain([fakeMachine(0, { price: "30" })]);
    const notes: string[] = [];
    const down = await selectMachine(chain, REGISTRY, {
      model: "tiny-llama",
      indexerUrl: "http://127.0.0.1:9",
      onFallback: (reason) => notes.push(reason),
    });
    expect(down.machineId).toBe("0");
    expect(notes[0]).toMatch(/the indexer at http:\/\/127.0.0.1:9 failed/);
    const api = await indexer([[]]);
    const empty = await selectMachine(chain, REGISTRY, {
      model: "tiny-llama",
      indexerUrl: api.url,
      onFallback: (reason) => notes.push(reason),
    });
    expect(empty.machineId).toBe("0");
    expect(notes[1]).toMatch(/the indexer knows no eligible machine/);
  });
});
