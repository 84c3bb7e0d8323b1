/**
 * One node per persisted home: a LOCK file holding the owner's pid. Two nodes appending to one
 * chain log would interleave two chains. A lock left by a process that no longer runs (killed,
 * crashed) is taken over, so a restart after SIGKILL needs no cleanup.
 */
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from "node:fs";

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function tryCreate(path: string): boolean {
  try {
    const fd = openSync(path, "wx");
    try {
      writeSync(fd, `${process.pid}\n`);
    } finally {
      closeSync(fd);
    }
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  }
}

function ownerOf(path: string): number | null {
  try {
    const pid = Number(readFileSync(path, "utf8").trim());
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/** Takes the lock at `path`; returns the function that releases it. */
export function lockHome(path: string, what: string): () => void {
  for (let attempt = 0; attempt < 2; attempt++) {
    if (tryCreate(path)) return () => unlinkSync(path);
    const owner = ownerOf(path);
    if (owner !== null && isRunning(owner)) {
      const who = owner === process.pid ? "this process" : `process ${owner}`;
      throw new Error(`${what} is in use by ${who} (${path}); stop that node first`);
    }
    try {
      unlinkSync(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    }
  }
  throw new Error(`cannot take the lock ${path}: another node keeps taking it`);
}
