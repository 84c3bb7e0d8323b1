/**
 * Crash-safe file writes: a file is written under a temporary name, fsync'd, renamed over its
 * final name and the folder fsync'd, so after a crash at any point the final name holds either the
 * old bytes or the new ones, never a mix. Leftover temporary files are ignored and removed.
 */
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  renameSync,
  rmSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";

export const TEMP_SUFFIX = ".tmp";

export function fsyncDir(dir: string): void {
  const fd = openSync(dir, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export function ensureDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
}

/** Replaces `dir/name` with `bytes` atomically and durably. */
export function writeAtomic(
  dir: string,
  name: string,
  bytes: Uint8Array | string,
  mode = 0o600,
): void {
  const temp = join(dir, `${name}.${process.pid}${TEMP_SUFFIX}`);
  const fd = openSync(temp, "w", mode);
  try {
    const data = typeof bytes === "string" ? Buffer.from(bytes, "utf8") : bytes;
    let written = 0;
    while (written < data.length) {
      written += writeSync(fd, data, written, data.length - written);
    }
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, join(dir, name));
  fsyncDir(dir);
}

/** Moves a finished file to its final name durably. */
export function renameDurably(from: string, dir: string, name: string): void {
  renameSync(from, join(dir, name));
  fsyncDir(dir);
}

/** Removes `dir/name` durably (a missing file is no error). */
export function removeDurably(dir: string, name: string): void {
  rmSync(join(dir, name), { force: true });
  fsyncDir(dir);
}

/** Removes temporary files a crash left behind in `dir`. */
export function removeTemporaries(dir: string): number {
  let removed = 0;
  for (const entry of readdirSync(dir)) {
    if (entry.endsWith(TEMP_SUFFIX)) {
      rmSync(join(dir, entry), { force: true });
      removed++;
    }
  }
  return removed;
}
