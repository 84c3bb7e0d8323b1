/** The near-sandbox drop-in: `init` writes the files near-workspaces reads, `run` serves RPC until signalled. */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect, test } from "vitest";
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

test("init writes genesis, config and the validator key of test.near (with no PATH in the environment)", () => {
  const home = join(mkdtempSync(join(tmpdir(), "localnet-cli-")), "home");
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
  const home = join(mkdtempSync(join(tmpdir(), "localnet-cli-")), "home");
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
}, 20_000);
