/**
 * A drop-in for the near-sandbox binary, as near-workspaces drives it:
 *   near-sandbox --home DIR init                    writes genesis.json, config.json, node_key.json,
 *                                                   validator_key.json (test.near's key)
 *   near-sandbox --home DIR run --rpc-addr H:P      serves JSON-RPC (and the neardata stream) on H:P
 *                [--network-addr H:P]               until SIGINT or SIGTERM (network-addr is unused)
 *                [--persist]                        keeps the chain in DIR/data/chain.log; a home that
 *                                                   has one is always resumed from it
 * Options of the real binary that localnet has no use for are accepted and ignored.
 */
import { homedir } from "node:os";
import { join } from "node:path";
import { initHome, loadHome } from "./node/home.ts";
import { LocalNode } from "./node/node.ts";
import { persistenceFor } from "./node/persisted-chain.ts";
import type { RpcContext } from "./rpc/context.ts";
import { startServer } from "./rpc/server.ts";
import { createRuntime } from "./runtime/index.ts";

const USAGE = `usage: near-sandbox [--home DIR] init
       near-sandbox [--home DIR] run [--rpc-addr HOST:PORT] [--network-addr HOST:PORT] [--block-interval-ms N] [--persist]`;

interface Args {
  home: string;
  command: string | undefined;
  options: Map<string, string>;
}

function parseArgs(argv: string[]): Args {
  let home = join(homedir(), ".near");
  let command: string | undefined;
  const options = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    if (!arg.startsWith("--")) {
      command ??= arg;
      continue;
    }
    const eq = arg.indexOf("=");
    const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    const next = argv[i + 1];
    const value =
      eq !== -1 ? arg.slice(eq + 1) : next !== undefined && !next.startsWith("--") ? next : "";
    if (eq === -1 && value !== "") i += 1;
    if (name === "home") home = value;
    else options.set(name, value);
  }
  return { home, command, options };
}

function parseAddr(text: string): { host: string; port: number } {
  const colon = text.lastIndexOf(":");
  const port = Number(text.slice(colon + 1));
  if (colon <= 0 || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`--rpc-addr must be HOST:PORT, got ${JSON.stringify(text)}`);
  }
  return { host: text.slice(0, colon), port };
}

async function run(args: Args): Promise<void> {
  const home = loadHome(args.home);
  const addr = parseAddr(args.options.get("rpc-addr") || "0.0.0.0:3030");
  const intervalText = args.options.get("block-interval-ms");
  const blockIntervalMs = intervalText ? Number(intervalText) : 1000;
  if (!Number.isInteger(blockIntervalMs) || blockIntervalMs < 0) {
    throw new Error(
      `--block-interval-ms must be a non-negative integer, got ${JSON.stringify(intervalText)}`,
    );
  }
  const persistFlag = args.options.get("persist");
  if (persistFlag !== undefined && persistFlag !== "" && persistFlag !== "true") {
    throw new Error(`--persist takes no value, got ${JSON.stringify(persistFlag)}`);
  }
  // Loaded here so that `init` does not load the VM.
  const { runFunctionCall } = await import("./vm/index.ts");
  const persistence = persistenceFor(home.dir, home.genesis, persistFlag !== undefined);
  if (persistence && persistence.droppedBytes > 0) {
    process.stderr.write(
      `localnet: dropped a torn last record (${persistence.droppedBytes} bytes) from ${persistence.path}\n`,
    );
  }
  const node = new LocalNode({
    genesis: home.genesis,
    runtime: createRuntime(runFunctionCall),
    blockIntervalMs,
    ...(persistence ? { persistence } : {}),
  });
  if (persistence) {
    process.stderr.write(
      `localnet: chain kept in ${persistence.path}, head at height ${node.chain.head.height}\n`,
    );
  }
  const ctx: RpcContext = {
    node,
    validatorKey: home.validatorKey,
    nodeKey: home.nodeKey,
    rpcAddr: `${addr.host}:${addr.port}`,
    startedAt: Date.now(),
    txTimeoutMs: 10_000,
  };
  const server = await startServer(ctx, addr.host, addr.port);
  node.start();
  process.stderr.write(`localnet: serving RPC on ${addr.host}:${server.port} (home ${home.dir})\n`);
  const shutdown = (signal: string) => {
    process.stderr.write(`localnet: ${signal}, stopping\n`);
    node.stop();
    server.close().then(() => process.exit(0));
  };
  process.once("SIGINT", () => shutdown("SIGINT"));
  process.once("SIGTERM", () => shutdown("SIGTERM"));
}

async function main(argv: string[]): Promise<void> {
  const args = parseArgs(argv);
  switch (args.command) {
    case "init": {
      const home = initHome(args.home);
      process.stderr.write(`localnet: initialised ${home.dir}\n`);
      return;
    }
    case "run":
      return run(args);
    default:
      process.stderr.write(
        `${args.command ? `unknown command "${args.command}"\n` : ""}${USAGE}\n`,
      );
      process.exitCode = 2;
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`near-sandbox (localnet): ${(error as Error).message}\n`);
  process.exit(1);
});
