/**
 * localnet's programmatic API: start a node with its RPC server in this process.
 *
 *   const net = await startLocalnet({ runtime });
 *   // net.rpcUrl, net.accounts.validator (test.near's key), net.node
 *   await net.stop();
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { publicKeyToString } from "./node/encoding.ts";
import { type Home, initHome, loadHome } from "./node/home.ts";
import { LocalNode } from "./node/node.ts";
import { persistenceFor } from "./node/persisted-chain.ts";
import type { RuntimeApi } from "./node/runtime-api.ts";
import type { RpcContext } from "./rpc/context.ts";
import { startServer } from "./rpc/server.ts";

export { initHome, loadHome } from "./node/home.ts";
export { LocalNode } from "./node/node.ts";
export { chainLogPath, hasPersistedChain } from "./node/persisted-chain.ts";
export type { RuntimeApi } from "./node/runtime-api.ts";

export interface LocalnetOptions {
  /** Runtime and VM; see node/runtime-api.ts. */
  runtime: RuntimeApi;
  /**
   * Home folder; an existing one is used as is, a missing one is initialised. Default: a new
   * temporary folder, removed on stop.
   */
  home?: string;
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** Empty blocks are produced at this interval when idle (default 1000; 0: only when there is work). */
  blockIntervalMs?: number;
  /** How long send_tx/tx wait before TIMEOUT_ERROR (default 10 s, as nearcore). */
  txTimeoutMs?: number;
  /**
   * Keep the chain in HOME/data/chain.log so that a later start on the same home resumes it
   * (default false). A home that already holds a chain log is always resumed.
   */
  persist?: boolean;
}

export interface AccountKey {
  accountId: string;
  publicKey: string;
  secretKey: string;
}

export interface Localnet {
  rpcUrl: string;
  home: string;
  accounts: { validator: AccountKey };
  node: LocalNode;
  /** The chain log this node appends to, or null when the chain lives in memory only. */
  chainLog: { path: string; droppedBytes: number } | null;
  stop(): Promise<void>;
}

function homeFor(dir: string | undefined, rpcAddr: string): Home {
  if (dir === undefined) return initHome(mkdtempSync(join(tmpdir(), "localnet-")), rpcAddr);
  // Only a home without genesis is initialised: a broken one is reported, never overwritten.
  return existsSync(join(dir, "genesis.json")) ? loadHome(dir) : initHome(dir, rpcAddr);
}

export async function startLocalnet(options: LocalnetOptions): Promise<Localnet> {
  const host = options.host ?? "127.0.0.1";
  const home = homeFor(options.home, `${host}:${options.port ?? 0}`);
  const temporaryHome = options.home === undefined;
  const persistence = persistenceFor(home.dir, home.genesis, options.persist ?? false);
  const node = new LocalNode({
    genesis: home.genesis,
    runtime: options.runtime,
    blockIntervalMs: options.blockIntervalMs ?? 1000,
    ...(persistence ? { persistence } : {}),
  });
  const ctx: RpcContext = {
    node,
    validatorKey: home.validatorKey,
    nodeKey: home.nodeKey,
    rpcAddr: `${host}:${options.port ?? 0}`,
    startedAt: Date.now(),
    txTimeoutMs: options.txTimeoutMs ?? 10_000,
  };
  let server: Awaited<ReturnType<typeof startServer>>;
  try {
    server = await startServer(ctx, host, options.port ?? 0);
  } catch (error) {
    node.stop();
    throw error;
  }
  ctx.rpcAddr = `${host}:${server.port}`;
  node.start();
  return {
    rpcUrl: `http://${host}:${server.port}`,
    home: home.dir,
    accounts: {
      validator: {
        accountId: "test.near",
        publicKey: publicKeyToString(home.validatorKey.publicKey),
        secretKey: home.validatorKey.secretKey,
      },
    },
    node,
    chainLog: persistence
      ? { path: persistence.path, droppedBytes: persistence.droppedBytes }
      : null,
    async stop() {
      node.stop();
      await server.close();
      if (temporaryHome) rmSync(home.dir, { recursive: true, force: true });
    },
  };
}
