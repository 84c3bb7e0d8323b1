/**
 * Debian's chromium for the headless browser test: used where it is, installed with apt-get when
 * this runs as root and it is missing. Resolves to its path, or to the reason it cannot be had
 * (the test is then skipped with that reason).
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { type Browser, chromium } from "playwright-core";

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

export function ensureChromium(): { path: string } | { missing: string } {
  if (existsSync(CHROMIUM)) return { path: CHROMIUM };
  if (process.getuid?.() !== 0 || !existsSync("/usr/bin/apt-get")) {
    return {
      missing: `no chromium at ${CHROMIUM} and apt-get cannot install it here (needs root and apt); install Debian's chromium or set CHROMIUM_PATH`,
    };
  }
  try {
    const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
    execFileSync("apt-get", ["update", "-qq"], { stdio: "ignore", env, timeout: 300_000 });
    execFileSync("apt-get", ["install", "-y", "-qq", "chromium"], {
      stdio: "ignore",
      env,
      timeout: 600_000,
    });
  } catch (error) {
    return { missing: `apt-get install chromium failed: ${(error as Error).message}` };
  }
  return existsSync(CHROMIUM)
    ? { path: CHROMIUM }
    : { missing: `apt-get installed chromium but ${CHROMIUM} does not exist` };
}

/** A fresh headless chromium (playwright gives each launch its own new profile folder). */
export function launch(path: string): Promise<Browser> {
  return chromium.launch({
    executablePath: path,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}
