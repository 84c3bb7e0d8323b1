/** The near-sandbox drop-in: `init` writes the files near-workspaces reads, `run` serves RPC until signalled. */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, expect, test } from "vitest";
import { publicKeyToString } from "../../src/node/encoding.ts";
import { keyPairFromSecret } from "../../src/node/keys.ts";

const BIN = fileURLToPath(new URL("../../bin/near-sandbox", import.meta.url));

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const folders: string[] = [];

afterEach(() => {
  for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
});

/** A new home in a temporary folder, removed after the test. */
function newHome(): string {
  const folder = mkdtempSync(join(tmpdir(), "localnet-cli-"));
  folders.push(folder);
  return join(folder, "home");
}

test("init writes genesis, config and the validator key of test.near (with no PATH in the environment)", () => {
  const home = newHome();
  const result = spawnSync(BIN, ["--home", home, "init"], { env: {}, encoding: "utf8" });
  expect(result.stderr).toContain("initialised");
  expect(result.status).toBe(0);
  for (const file of ["genesis.json", "config.json", "node_key.json", "validator_key.json"]) {
    expect(existsSync(join(home, file))).toBe(true);
  }
  const key = JSON.parse(readFileSync(join(home, "validator_key.json"), "utf8"));
  expect(key.account_id).toBe("test.near");
  expect(publicKeyToString(keyPairFromSecret(key.secret_key).publicKey)).toBe(key.public_key);
  const genesis = JSON.parse(readFileSync(join(home, "genesis.json"), "utf8"));
  const access = genesis.records.find(
    (r: { AccessKey?: { account_id: string } }) => r.AccessKey?.account_id === "test.near",
  );
  expect(access.AccessKey.public_key).toBe(key.public_key);
});

test("an unknown command is refused with the usage", () => {
  const result = spawnSync(BIN, ["frobnicate"], { encoding: "utf8" });
  expect(result.status).toBe(2);
  expect(result.stderr).toContain("usage: near-sandbox");
});

test("run serves status on --rpc-addr and exits cleanly on SIGINT", async () => {
  const home = newHome();
  expect(spawnSync(BIN, ["--home", home, "init"]).status).toBe(0);
  const port = await freePort();
  const child = spawn(
    BIN,
    ["--home", home, "run", "--rpc-addr", `0.0.0.0:${port}`, "--network-addr", "0.0.0.0:1"],
    {
      stdio: ["ignore", "ignore", "pipe"],
    },
  );
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  let status: { chain_id?: string } = {};
  for (let attempt = 0; attempt < 100 && !status.chain_id; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    try {
      const response = await fetch(`http://127.0.0.1:${port}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "status", params: [] }),
      });
      status = ((await response.json()) as { result: typeof status }).result;
    } catch {
      // not listening yet
    }
  }
  expect(status.chain_id).toBe("localnet");
  child.kill("SIGINT");
  expect(await exited).toBe(0);
  // Without --persist the chain lives in memory (near-workspaces' case): nothing is written.
  expect(existsSync(join(home, "data"))).toBe(false);
}, 20_000);

async function rpcCall<T>(port: number, method: string, params: unknown): Promise<T> {
  const response = await fetch(`http://127.0.0.1:${port}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  const body = (await response.json()) as { result?: T; error?: unknown };
  if (body.error !== undefined) throw new Error(`${method}: ${JSON.stringify(body.error)}`);
  return body.result as T;
}

/** Runs the node until `ready` holds, then stops it with SIGINT; returns what `ready` saw. */
async function runUntil<T>(
  home: string,
  extra: string[],
  ready: (port: number) => Promise<T | null>,
): Promise<{ seen: T; code: number | null; stderr: string }> {
  const port = await freePort();
  const child = spawn(BIN, ["--home", home, "run", "--rpc-addr", `127.0.0.1:${port}`, ...extra], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  let seen: T | null = null;
  for (let attempt = 0; attempt < 200 && seen === null; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    seen = await ready(port).catch(() => null);
  }
  child.kill("SIGINT");
  const code = await exited;
  if (seen === null) throw new Error(`the node never got ready: ${stderr}`);
  return { seen, code, stderr };
}

interface BlockAnswer {
  header: { height: number; hash: string };
}

test("run --persist keeps the chain; the next run resumes it (SIGINT, then restart)", async () => {
  const home = newHome();
  expect(spawnSync(BIN, ["--home", home, "init"]).status).toBe(0);
  const first = await runUntil(home, ["--persist", "--block-interval-ms", "20"], async (port) => {
    const block = await rpcCall<BlockAnswer>(port, "block", { finality: "optimistic" });
    return block.header.height >= 5 ? block : null;
  });
  expect(first.code).toBe(0);
  expect(existsSync(join(home, "data", "chain.log"))).toBe(true);
  expect(existsSync(join(home, "data", "LOCK"))).toBe(false);

  const old = first.seen.header.height;
  const second = await runUntil(home, ["--block-interval-ms", "0"], (port) =>
    rpcCall<BlockAnswer>(port, "block", { block_id: old }),
  );
  expect(second.code).toBe(0);
  expect(second.seen.header.hash).toBe(first.seen.header.hash);
  expect(second.stderr).toMatch(/chain kept in .*chain\.log, head at height \d+/);
}, 30_000);
