/**
 * `npm start`'s stack end to end: a fresh stack seeds the demo market; the dashboard (served by
 * the API, in a real headless chromium) shows it, its filters query the API, and a job created
 * with the CLI appears without a reload; a second start on the same data resumes the same chain
 * and database without deploying or seeding again.
 */
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../../src/artifacts.ts";
import type { DevConfig } from "../../src/dev/config.ts";
import { DEMO_JOBS, DEMO_PROVIDERS, DEMO_SESSION } from "../../src/dev/demo.ts";
import { freePort, freePortRange } from "../../src/dev/free-port.ts";
import { createDevLog } from "../../src/dev/log.ts";
import { type Stack, startStack } from "../../src/dev/stack.ts";
import { runCli } from "../support/run-cli.ts";
import { ensureChromium, launch } from "./support/chromium.ts";

const chromium = ensureChromium();
if ("missing" in chromium) console.warn(`skipping the dashboard browser test: ${chromium.missing}`);

let dataDir: string;
let config: DevConfig;
let stack: Stack | null = null;
let browser: Browser | null = null;
const logs: string[] = [];

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "gpu-market-start-"));
  // As root, the embedded PostgreSQL runs as the postgres user, which must reach its folder.
  chmodSync(dataDir, 0o755);
  config = {
    root: REPO_ROOT,
    dataDir,
    host: "127.0.0.1",
    rpcPort: 0,
    apiPort: 0,
    pgPort: await freePort(),
    backendPort: 0,
    agentPort: await freePortRange(DEMO_PROVIDERS.length),
    blockIntervalMs: 500,
    seed: true,
  };
  stack = await startStack(
    config,
    createDevLog((line) => logs.push(line), false),
  );
  await stack.ready;
}, 480_000);

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

async function api<T>(path: string): Promise<T> {
  const response = await fetch(`${stack?.apiUrl}${path}`);
  expect(response.status, path).toBe(200);
  return (await response.json()) as T;
}

/** Waits until the machine table has `n` rows (the filters query the API, then redraw). */
const rowCount = (page: Page, n: number) =>
  expect.poll(() => page.locator("[data-testid=machine-row]").count(), { timeout: 10_000 }).toBe(n);

const machineIds = (page: Page) =>
  page.$$eval("[data-testid=machine-row]", (rows) =>
    rows.map((r) => r.getAttribute("data-machine-id")),
  );

describe("npm start", () => {
  it("seeds the demo market through the commands and indexes it", async () => {
    expect(logs.join("\n")).toMatch(/seed\s+demo market seeded in/);
    const machines = await api<{ data: { id: string; eligible: boolean }[] }>(
      "/v1/machines?limit=100",
    );
    expect(machines.data).toHaveLength(8);
    expect(machines.data.filter((m) => m.eligible)).toHaveLength(7);
    const health = await api<{ ready: boolean }>("/health");
    expect(health.ready).toBe(true);
    // Machine 0's settled job ran for real: its usage is the backend's own token count.
    const jobs = await api<{
      data: { status: string; prompt_tokens: string | null; completion_tokens: string | null }[];
    }>("/v1/jobs?machine_id=0");
    const ran = jobs.data.find((j) => j.status === "settled");
    expect(Number(ran?.prompt_tokens)).toBeGreaterThan(0);
    expect(Number(ran?.completion_tokens)).toBeGreaterThan(0);
    const machine = await api<{ data: { throughput: Record<string, unknown> } }>("/v1/machines/0");
    expect(machine.data.throughput).toMatchObject({
      jobs_delivered: 1,
      prompt_tokens: ran?.prompt_tokens,
      completion_tokens: ran?.completion_tokens,
      tokens_per_second: expect.any(Number),
    });
    // The request sealed for another client did not decrypt: the agent gave the job back.
    const failed = await api<{ data: Record<string, unknown>[] }>("/v1/jobs?machine_id=1");
    expect(failed.data.map((j) => j.failure_code)).toContain("bad_request");
    expect(logs.join("\n")).toMatch(/agent\s+gpuhub: 3 machine\(s\) served at http/);
    // The session's chats ran with no transaction each, and the session closed and settled.
    expect(logs.join("\n")).toMatch(/seed\s+session #\d+: settled, provider paid \d+/);
  });

  it("keeps prompts and answers off the operator's side: agents' disks and logs hold ciphertext", () => {
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) walk(path);
        else files.push(path);
      }
    };
    walk(join(dataDir, "agents"));
    expect(files.length).toBeGreaterThan(0);
    const stored = files.map((path) => readFileSync(path, "latin1")).join("\n");
    for (const prompt of [...DEMO_JOBS.map((j) => j.prompt), ...DEMO_SESSION.prompts]) {
      expect(stored).not.toContain(prompt);
      expect(logs.join("\n")).not.toContain(prompt);
    }
  });

  describe.skipIf("missing" in chromium)("the dashboard in a headless browser", () => {
    let page: Page;

    beforeAll(async () => {
      if (!("path" in chromium)) return;
      browser = await launch(chromium.path);
      page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      const errors: string[] = [];
      page.on("pageerror", (error) => errors.push(error.message));
      await page.goto(stack?.apiUrl ?? "");
      expect(page.url()).toBe(stack?.dashboardUrl);
      await page.waitForSelector("[data-testid=machine-row]");
      expect(errors).toEqual([]);
    });

    it("shows machines, jobs with timelines, proposals and providers", async () => {
      await expect
        .poll(() => page.locator("[data-testid=job]").count(), { timeout: 10_000 })
        .toBe(8);
      expect(await machineIds(page)).toEqual(["0", "1", "2", "3", "4", "5", "6", "7"]);
      const statuses = await page.$$eval("[data-testid=job]", (jobs) =>
        jobs.map((j) => j.getAttribute("data-status")).sort(),
      );
      expect(statuses).toEqual([
        "delivered",
        "disputed",
        "refunded",
        "refunded",
        "requested",
        "settled",
        "settled",
        "settled",
      ]);
      // Each job shows its model, the keyset its input was encrypted to and, once delivered, usage.
      const delivered = page.locator(
        "[data-testid=job][data-status=delivered] [data-testid=job-inference]",
      );
      expect(await delivered.textContent()).toMatch(
        /input encrypted to keyset [0-9a-f]{6}…[0-9a-f]{6} · \d+ prompt \+ \d+ completion tokens · [0-9.]+ tok\/s/,
      );
      expect(await page.locator("[data-testid=job-inference]").allTextContents()).toContainEqual(
        expect.stringContaining("failed: bad request"),
      );
      const machineZero = page.locator(
        '[data-testid=machine-row][data-machine-id="0"] [data-testid=throughput]',
      );
      expect(await machineZero.textContent()).toMatch(/^[0-9.]+ tok\/s · 1 job$/);
      // A settled job's timeline has every step done.
      const settled = page.locator("[data-testid=job][data-status=settled]").first();
      expect(await settled.locator(".step.done").count()).toBe(4);
      await expect
        .poll(() => page.locator("[data-testid=proposal]").count(), { timeout: 10_000 })
        .toBe(3);
      expect(await page.locator("[data-testid=proposal] .badge").allTextContents()).toEqual([
        "active",
        "executed",
        "executed",
      ]);
      expect(await page.locator("[data-testid=provider]").count()).toBe(3);
      expect(await page.locator("#chart-supply svg rect").count()).toBe(5);
      expect(await page.locator("[data-testid=card-machines] .card-value").textContent()).toBe("7");
    });

    it("filters machines through the API", async () => {
      await page.fill("[data-testid=filter-gpu]", "H100");
      await rowCount(page, 2);
      expect(await machineIds(page)).toEqual(["0", "1"]);
      await page.fill("[data-testid=filter-gpu]", "");
      await page.fill("[data-testid=filter-price]", "0.0005");
      await rowCount(page, 5);
      expect(await machineIds(page)).toEqual(["3", "4", "5", "6", "7"]);
      await page.check("[data-testid=filter-eligible]");
      await rowCount(page, 4);
      expect(await machineIds(page)).toEqual(["3", "4", "5", "6"]);
      await page.fill("[data-testid=filter-price]", "half");
      // An amount that is not one is marked, and left out of the query.
      await expect
        .poll(() =>
          page.evaluate('document.querySelector("[data-testid=filter-price]").validity.valid'),
        )
        .toBe(false);
      await rowCount(page, 7);
      await page.selectOption("[data-testid=filter-region]", "us-east-1");
      await rowCount(page, 2);
      expect(await machineIds(page)).toEqual(["3", "4"]);
    });

    it("shows a job created with the CLI without reloading", async () => {
      await page.evaluate("window.stayed = true");
      // A model machine 3 serves: the one of its seeded job.
      const seeded = await api<{ data: { model_hash: string }[] }>("/v1/jobs?machine_id=3");
      const modelHash = seeded.data[0]?.model_hash ?? "";
      const created = await runCli(
        [
          "job",
          "create",
          "--account",
          "test.near",
          "--machine",
          "3",
          "--max-amount",
          "0.5",
          "--model-hash",
          modelHash,
          "--input-hash",
          "cd".repeat(32),
          "--json",
          "--network",
          "localnet",
          "--rpc-url",
          stack?.rpcUrl ?? "",
        ],
        {
          NEAR_CREDENTIALS_DIR: stack?.credentialsDir ?? "",
          GPU_MARKET_DEPLOYMENT: stack?.deploymentPath ?? "",
        },
      );
      expect(created.code, created.stderr).toBe(0);
      const job = JSON.parse(created.stdout) as { id: string };
      const row = page.locator(`[data-testid=job][data-job-id="${job.id}"]`);
      await row.waitFor({ timeout: 15_000 });
      expect(await row.getAttribute("data-status")).toBe("requested");
      expect(await page.evaluate("window.stayed")).toBe(true);
    });
  });

  it("resumes the same chain and database on a second start", async () => {
    const before = await api<{ indexed_height: number }>("/health");
    await stack?.stop();
    stack = null;
    logs.length = 0;
    stack = await startStack(
      config,
      createDevLog((line) => logs.push(line), false),
    );
    await stack.ready;
    const text = logs.join("\n");
    expect(text).toMatch(/localnet\s+ready in .* resumed at height \d+/);
    expect(text).toMatch(/market\s+contracts found: registry\.test\.near/);
    expect(text).not.toMatch(/seed/);
    expect(text).toMatch(/agent\s+gpuhub: 3 machine\(s\) served at http/);
    const after = await api<{ indexed_height: number }>("/health");
    expect(after.indexed_height).toBeGreaterThanOrEqual(before.indexed_height);
    const machines = await api<{ data: unknown[] }>("/v1/machines?limit=100");
    expect(machines.data).toHaveLength(8);
  }, 120_000);
});
