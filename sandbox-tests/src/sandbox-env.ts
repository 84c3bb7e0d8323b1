/**
 * Points near-workspaces at a NEAR node before any Worker starts. near-workspaces (through
 * near-sandbox's getBinary) runs `$NEAR_SANDBOX_BINARY_PATH/near-sandbox`, but only keeps that
 * folder when NEAR_SANDBOX_BIN_PATH is also set. A real near-sandbox binary given through
 * NEAR_SANDBOX_BINARY_PATH is used as is; otherwise localnet's drop-in binary is used, so nothing
 * is ever downloaded.
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

export const LOCALNET_BIN_DIR = fileURLToPath(new URL("../../localnet/bin/", import.meta.url));

export function configureSandboxBinary(env: NodeJS.ProcessEnv = process.env): string {
  const given = env.NEAR_SANDBOX_BINARY_PATH;
  if (given && existsSync(`${given}/near-sandbox`)) {
    env.NEAR_SANDBOX_BIN_PATH ??= `${given}/near-sandbox`;
    return `${given}/near-sandbox`;
  }
  const binary = `${LOCALNET_BIN_DIR}near-sandbox`;
  if (!existsSync(binary)) {
    throw new Error(`localnet's near-sandbox drop-in is missing at ${binary}`);
  }
  env.NEAR_SANDBOX_BINARY_PATH = LOCALNET_BIN_DIR;
  env.NEAR_SANDBOX_BIN_PATH = binary;
  return binary;
}

/**
 * near-workspaces and the near-api-js 5 inside it print every contract log and receipt failure of
 * every transaction; the tests assert those themselves, so only errors are printed.
 */
function quietNearLogs(): void {
  process.env.NEAR_WORKSPACES_NO_LOGS ??= "1";
  const fromWorkspaces = createRequire(createRequire(import.meta.url).resolve("near-workspaces"));
  const { Logger } = fromWorkspaces("@near-js/utils") as {
    Logger: {
      overrideLogger(
        logger: Record<"log" | "warn" | "error" | "fatal", (...a: unknown[]) => void>,
      ): void;
    };
  };
  const toStderr = (...a: unknown[]) => console.error(...a);
  Logger.overrideLogger({ log() {}, warn() {}, error: toStderr, fatal: toStderr });
}

configureSandboxBinary();
quietNearLogs();
