/**
 * Processes as a provider runs them: `gpu-market provider run` (agent/src/cli.ts) and, for the
 * bench, `model-server serve`. Each resolves once it listens; its output goes to `onLine`, a line
 * at a time.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const AGENT_CLI = fileURLToPath(new URL("../../src/cli.ts", import.meta.url));
const MODEL_SERVER_CLI = fileURLToPath(
  new URL("../../../model-server/src/cli.ts", import.meta.url),
);

export interface Child {
  process: ChildProcess;
  url: string;
  exited: Promise<number | null>;
}

type OnLine = (line: string) => void;

function start(
  cli: string,
  args: string[],
  env: Record<string, string>,
  onLine: OnLine,
  ready: RegExp,
): Promise<Child> {
  const child = spawn(process.execPath, [cli, ...args], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return new Promise<Child>((resolve, reject) => {
    let pending = "";
    const seen: string[] = [];
    const onData = (chunk: Buffer) => {
      pending += chunk.toString("utf8");
      let newline = pending.indexOf("\n");
      while (newline >= 0) {
        const line = pending.slice(0, newline);
        pending = pending.slice(newline + 1);
        seen.push(line);
        onLine(line);
        const match = ready.exec(line);
        if (match?.[1] !== undefined) resolve({ process: child, url: match[1], exited });
        newline = pending.indexOf("\n");
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    exited.then((code) => reject(new Error(`${cli} exited with ${code}\n${seen.join("\n")}`)));
  });
}

/** `gpu-market provider run <args>`. */
export function startAgentProcess(
  args: string[],
  env: Record<string, string>,
  onLine: OnLine,
): Promise<Child> {
  return start(AGENT_CLI, args, env, onLine, /provider agent listening on (http:\/\/[^"\s]+)/);
}

/** `model-server serve --model <path> --name <name> --port 0`. */
export function startModelServerProcess(
  modelPath: string,
  name: string,
  onLine: OnLine,
): Promise<Child> {
  return start(
    MODEL_SERVER_CLI,
    ["serve", "--model", modelPath, "--name", name, "--port", "0"],
    {},
    onLine,
    /(http:\/\/127\.0\.0\.1:\d+)/,
  );
}

/** `gpu-market provider <args>` to the end: its exit code and output. */
export function runAgentCli(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [AGENT_CLI, ...args],
      { env: { ...process.env, ...env }, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : 1;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
  });
}
