/**
 * The evidence hashes this verifier has posted verdicts on, kept in a JSON file written
 * atomically after each post, so a restarted service never posts twice (the registry
 * also refuses a second verdict, this avoids paying for the failed call).
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";

export class PostedStore {
  private readonly path: string | null;
  private readonly posted: Set<string>;

  /** `path` null keeps the set in memory only. */
  constructor(path: string | null) {
    this.path = path;
    this.posted = new Set();
    if (path !== null && existsSync(path)) {
      const value: unknown = JSON.parse(readFileSync(path, "utf8"));
      if (!Array.isArray(value) || value.some((h) => typeof h !== "string")) {
        throw new Error(`${path}: expected a JSON list of evidence hashes`);
      }
      for (const hash of value as string[]) {
        this.posted.add(hash);
      }
    }
  }

  has(hash: string): boolean {
    return this.posted.has(hash);
  }

  add(hash: string): void {
    this.posted.add(hash);
    if (this.path !== null) {
      writeFileSync(`${this.path}.tmp`, JSON.stringify([...this.posted]));
      renameSync(`${this.path}.tmp`, this.path);
    }
  }
}
