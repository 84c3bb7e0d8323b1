/** Flag values: whole numbers within bounds, paths relative to where the command was typed. */
import { resolve } from "node:path";
import { usageError } from "./errors.ts";

/** A whole number flag within bounds, or a usage error naming the flag. */
export function wholeNumber(
  text: string | undefined,
  flag: string,
  min: number,
  max: number,
): number | undefined {
  if (text === undefined) return undefined;
  const value = /^\d{1,10}$/.test(text) ? Number(text) : Number.NaN;
  if (!(value >= min && value <= max)) {
    throw usageError(`${flag}: "${text}" is not a whole number from ${min} to ${max}`);
  }
  return value;
}

/**
 * A path flag, relative to where the user typed the command: `npm run -w` runs scripts in the
 * workspace folder and keeps the user's folder in INIT_CWD.
 */
export function cliPath(path: string): string {
  return resolve(process.env.INIT_CWD ?? process.cwd(), path);
}
