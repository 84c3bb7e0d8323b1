/**
 * The chain log on disk (on the stand-in runtime): off unless asked, a torn last record dropped,
 * and every file that is not this chain's log in this format refused with a clear error.
 */
import {
  appendFileSync,
  cpSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { crc32 } from "node:zlib";
import { Account, JsonRpcProvider, KeyPairSigner } from "near-api-js";
import { afterEach, expect, test } from "vitest";
import { chainLogPath, type Localnet, startLocalnet } from "../../src/index.ts";
import { createGenesis } from "../../src/node/genesis.ts";
import { randomKeyPair } from "../../src/node/keys.ts";
import { LocalNode } from "../../src/node/node.ts";
import { openPersistedChain } from "../../src/node/persisted-chain.ts";
import { fakeRuntime } from "./fake-runtime.ts";

const HEADER_BYTES = 48;
const VERSION_OFFSET = 8;

const running: Localnet[] = [];
const folders: string[] = [];

afterEach(async () => {
  for (const net of running.splice(0)) await net.stop();
  for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
});

function newHome(): string {
  const folder = mkdtempSync(join(tmpdir(), "localnet-log-"));
  folders.push(folder);
  return join(folder, "home");
}

async function start(home: string, persist?: boolean): Promise<Localnet> {
  const net = await startLocalnet({
    runtime: fakeRuntime(),
    home,
    blockIntervalMs: 0,
    txTimeoutMs: 3_000,
    ...(persist === undefined ? {} : { persist }),
  });
  running.push(net);
  return net;
}

async function stop(net: Localnet): Promise<void> {
  running.splice(running.indexOf(net), 1);
  await net.stop();
}

async function transfer(net: Localnet, amount: bigint): Promise<void> {
  const validator = new Account(
    "test.near",
    new JsonRpcProvider({ url: net.rpcUrl }),
    KeyPairSigner.fromSecretKey(net.accounts.validator.secretKey as never),
  );
  await validator.transfer({ receiverId: "near", amount });
}

/** A persisted home whose chain holds two transfers; returns its head height. */
async function persistedHome(): Promise<{ home: string; head: bigint }> {
  const home = newHome();
  const net = await start(home, true);
  await transfer(net, 1n);
  await transfer(net, 2n);
  const head = net.node.chain.head.height;
  await stop(net);
  return { home, head };
}

function rewriteHeaderVersion(path: string, version: number): void {
  const bytes = readFileSync(path);
  bytes.writeUInt32LE(version, VERSION_OFFSET);
  bytes.writeUInt32LE(crc32(bytes.subarray(0, HEADER_BYTES - 4)), HEADER_BYTES - 4);
  writeFileSync(path, bytes);
}

test("persistence is off unless asked: no chain log, and a restart begins at genesis", async () => {
  const home = newHome();
  const net = await start(home);
  await transfer(net, 1n);
  expect(net.chainLog).toBeNull();
  await stop(net);
  expect(existsSync(join(home, "data"))).toBe(false);
  const again = await start(home);
  expect(again.node.chain.head.height).toBe(0n);
});

test("a restart resumes the head, the blocks and the balances", async () => {
  const { home, head } = await persistedHome();
  const net = await start(home, true);
  expect(net.node.chain.head.height).toBe(head);
  const near = net.node.state.getAccount("near");
  expect(near?.amount).toBe(1_000_000_000n * 10n ** 24n + 3n);
  await transfer(net, 4n);
  expect(net.node.chain.head.height).toBeGreaterThan(head);
});

test("a torn record at the end (a crash mid-write) is dropped and the file cut back", async () => {
  const { home, head } = await persistedHome();
  const path = chainLogPath(home);
  const size = statSync(path).size;
  // A frame that announces 1000 bytes but holds 10: the write was cut short.
  const torn = Buffer.alloc(18);
  torn.writeUInt32LE(1000, 0);
  appendFileSync(path, torn);
  const net = await start(home);
  expect(net.chainLog?.droppedBytes).toBe(18);
  expect(net.node.chain.head.height).toBe(head);
  expect(statSync(path).size).toBe(size);
  await transfer(net, 5n);
  await stop(net);
  const after = await start(home);
  expect(after.chainLog?.droppedBytes).toBe(0);
  expect(after.node.state.getAccount("near")?.amount).toBe(1_000_000_000n * 10n ** 24n + 8n);
});

test("a last record cut short loses only that block; the chain goes on from the one before", async () => {
  const { home, head } = await persistedHome();
  const path = chainLogPath(home);
  truncateSync(path, statSync(path).size - 5);
  const net = await start(home);
  expect(net.chainLog?.droppedBytes).toBeGreaterThan(0);
  expect(net.node.chain.head.height).toBe(head - 1n);
  await transfer(net, 5n);
  expect(net.node.chain.head.height).toBeGreaterThan(head);
});

test("zeros after the last record (a file grown but not written) are dropped", async () => {
  const { home, head } = await persistedHome();
  appendFileSync(chainLogPath(home), Buffer.alloc(4096));
  const net = await start(home);
  expect(net.chainLog?.droppedBytes).toBe(4096);
  expect(net.node.chain.head.height).toBe(head);
});

test("a corrupt record followed by others is refused, naming the record", async () => {
  const { home } = await persistedHome();
  const path = chainLogPath(home);
  const bytes = readFileSync(path);
  bytes[HEADER_BYTES + 20] = (bytes[HEADER_BYTES + 20] ?? 0) ^ 0xff;
  writeFileSync(path, bytes);
  const message = /record 1 at byte 48 is corrupt .* and more records follow/;
  await expect(start(home)).rejects.toThrow(message);
  // The failed start left no lock behind: the same error again, not "in use".
  await expect(start(home)).rejects.toThrow(message);
});

test("a log written in another format is refused with the version found and the one read", async () => {
  const { home } = await persistedHome();
  rewriteHeaderVersion(chainLogPath(home), 0);
  await expect(start(home)).rejects.toThrow(
    /chain log format 0; this localnet reads format 1\. Run the localnet version that wrote it/,
  );
});

test("a log of another chain (another genesis) is refused", async () => {
  const { home } = await persistedHome();
  const other = newHome();
  await stop(await start(other));
  cpSync(join(home, "data"), join(other, "data"), { recursive: true });
  await expect(start(other)).rejects.toThrow(/belongs to another chain than this home's genesis/);
});

test("a file that is not a chain log is refused", async () => {
  const { home } = await persistedHome();
  writeFileSync(chainLogPath(home), "hello, world\n".repeat(10));
  await expect(start(home)).rejects.toThrow(/is not a localnet chain log/);
});

test("a record that passes its checksum but is no block is refused", async () => {
  const { home } = await persistedHome();
  const payload = Buffer.from("not a block");
  const frame = Buffer.alloc(8);
  frame.writeUInt32LE(payload.length, 0);
  frame.writeUInt32LE(crc32(payload), 4);
  appendFileSync(chainLogPath(home), Buffer.concat([frame, payload]));
  await expect(start(home)).rejects.toThrow(
    /record \d+ (cannot be decoded|is not a persisted block)/,
  );
});

test("one node per persisted home", async () => {
  const { home } = await persistedHome();
  const first = await start(home);
  await expect(start(home)).rejects.toThrow(/is in use by this process/);
  await stop(first);
  await stop(await start(home));
});

test("a lock left by a process that is gone is taken over", async () => {
  const { home } = await persistedHome();
  // Linux pids never exceed 2^22 (PID_MAX_LIMIT), so no process has this one.
  writeFileSync(join(home, "data", "LOCK"), `${2 ** 22 + 1}\n`);
  const net = await start(home);
  expect(readFileSync(join(home, "data", "LOCK"), "utf8").trim()).toBe(String(process.pid));
  await stop(net);
  expect(existsSync(join(home, "data", "LOCK"))).toBe(false);
});

test("a block that cannot be written stops the node instead of going on unkept", () => {
  const home = newHome();
  const genesis = createGenesis(randomKeyPair());
  const persistence = openPersistedChain(home, genesis);
  const node = new LocalNode({ genesis, runtime: fakeRuntime(), blockIntervalMs: 0, persistence });
  node.produceBlock();
  persistence.close();
  expect(() => node.produceBlock()).toThrow(
    /cannot write block 2 to the chain log, the node stopped: .*chain\.log is closed/,
  );
  expect(node.stopped).toBe(true);
  expect(node.chain.head.height).toBe(1n);
});
