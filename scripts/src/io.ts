/**
 * Where commands write. Readable lines go to stdout, progress to stderr; with --json, stdout holds
 * exactly one JSON document (the command's result) so machines can parse it, and progress still
 * goes to stderr. Other code (npm start, the dashboard) passes its own Io to the command functions.
 */

export interface Io {
  readonly json: boolean;
  /** A readable line of the result (dropped in JSON mode). */
  line(text: string): void;
  /** A progress or warning line (stderr). */
  progress(text: string): void;
  /** The command's result: printed as JSON in JSON mode. */
  result(value: unknown): void;
}

/** JSON with u128 BigInts as decimal strings. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_key, v) => (typeof v === "bigint" ? v.toString() : v), 2);
}

export function consoleIo(json: boolean): Io {
  return {
    json,
    line(text) {
      if (!json) process.stdout.write(`${text}\n`);
    },
    progress(text) {
      process.stderr.write(`${text}\n`);
    },
    result(value) {
      if (json) process.stdout.write(`${toJson(value)}\n`);
    },
  };
}

/** An Io that keeps everything in memory (tests, and callers that render output themselves). */
export interface MemoryIo extends Io {
  readonly lines: string[];
  readonly progressLines: string[];
  readonly results: unknown[];
}

export function memoryIo(json = false): MemoryIo {
  const lines: string[] = [];
  const progressLines: string[] = [];
  const results: unknown[] = [];
  return {
    json,
    lines,
    progressLines,
    results,
    line: (text) => lines.push(text),
    progress: (text) => progressLines.push(text),
    result: (value) => results.push(value),
  };
}

/** Runs a long step with a progress line before and a timed one after. */
export async function step<T>(io: Io, label: string, work: () => Promise<T>): Promise<T> {
  const started = performance.now();
  io.progress(`${label} ...`);
  const value = await work();
  io.progress(`${label}: done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return value;
}
