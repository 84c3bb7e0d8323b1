import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { RuntimeError } from "../src/index.ts";
import { loadLlamaRuntime } from "../src/llama/runtime.ts";

const CLI = join(import.meta.dirname, "..", "src", "cli.ts");

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "model-server-cli-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function cli(args: string[]): ChildProcess {
  return spawn(process.execPath, [CLI, ...args], { stdio: ["ignore", "pipe", "pipe"] });
}

async function run(
  args: string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = cli(args);
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (d) => {
    stdout += d;
  });
  child.stderr?.on("data", (d) => {
    stderr += d;
  });
  const [code] = await once(child, "exit");
  return { code, stdout, stderr };
}

describe("model-server generate", () => {
  test("--json reports the file; the same seed twice gives the same sha256", async () => {
    const a = await run(["generate", "--out", join(dir, "a.gguf"), "--seed", "9", "--json"]);
    const b = await run(["generate", "--out", join(dir, "sub", "b.gguf"), "--seed", "9", "--json"]);
    expect(a.code).toBe(0);
    const first = JSON.parse(a.stdout);
    expect(first).toMatchObject({ ok: true, seed: 9, architecture: "llama", vocabSize: 259 });
    expect(JSON.parse(b.stdout).sha256).toBe(first.sha256);
  });

  test("usage errors exit 2 with the fix", async () => {
    const missing = await run(["generate", "--json"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("error: --out is required\nfix: ");
    expect(JSON.parse(missing.stdout)).toMatchObject({ ok: false, error: "--out is required" });
    const seed = await run(["generate", "--out", join(dir, "x.gguf"), "--seed", "4294967296"]);
    expect(seed.code).toBe(2);
    expect(seed.stderr).toContain(
      '--seed: "4294967296" is not a whole number from 0 to 4294967295',
    );
    const unknown = await run(["train"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown command "train"');
  });
});

describe("model-server serve", () => {
  test("serves until SIGTERM, then exits 0", async () => {
    const model = join(dir, "serve.gguf");
    expect((await run(["generate", "--out", model])).code).toBe(0);
    const child = cli(["serve", "--model", model, "--name", "tiny", "--port", "0", "--json"]);
    const exited = once(child, "exit");
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    const [first] = (await once(lines, "line")) as [string];
    const ready = JSON.parse(first);
    expect(ready).toMatchObject({ ok: true, model: "tiny", context_size: 2048 });
    const models = (await (await fetch(`${ready.url}/v1/models`)).json()) as {
      data: Array<{ id: string; weights_sha256: string }>;
    };
    expect(models.data[0]).toMatchObject({ id: "tiny", weights_sha256: ready.weights_sha256 });
    child.kill("SIGTERM");
    const [code] = await exited;
    expect(code).toBe(0);
  });

  test("a missing model file exits 1 and says how to make one", async () => {
    const result = await run(["serve", "--model", join(dir, "none.gguf")]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("does not exist");
    expect(result.stderr).toContain("fix: write one with `npm run generate");
  });
});

describe("the llama.cpp runtime", () => {
  test("refuses a process started with --input-type, whose binary test child Node would refuse", async () => {
    const refused = loadLlamaRuntime(["--input-type=module", "-e", "code"]);
    await expect(refused).rejects.toBeInstanceOf(RuntimeError);
    await expect(refused).rejects.toThrow(/started with --input-type=module/);
  });
});
