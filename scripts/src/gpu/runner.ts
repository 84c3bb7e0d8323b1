/**
 * Runs an external command (nvidia-smi) and collects its output. Injectable so that tests replay
 * recorded outputs instead of needing the hardware.
 */
import { execFile } from "node:child_process";

export interface CommandResult {
  /** Exit status; null when the command could not be started at all. */
  code: number | null;
  stdout: string;
  stderr: string;
  /** The program does not exist on PATH. */
  notFound: boolean;
}

export type CommandRunner = (command: string, args: string[]) => Promise<CommandResult>;

export const systemRunner: CommandRunner = (command, args) =>
  new Promise((resolve) => {
    execFile(command, args, { timeout: 30_000, maxBuffer: 8 << 20 }, (error, stdout, stderr) => {
      const failure = error as (NodeJS.ErrnoException & { code?: string | number }) | null;
      if (failure?.code === "ENOENT") {
        resolve({ code: null, stdout: "", stderr: failure.message, notFound: true });
        return;
      }
      const code = failure === null ? 0 : typeof failure.code === "number" ? failure.code : 1;
      resolve({ code, stdout: String(stdout), stderr: String(stderr), notFound: false });
    });
  });
