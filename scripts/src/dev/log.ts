/**
 * The stack's log: one line per event, `time  service  message`, with the service's name in its
 * own colour when the output is a terminal. Services log their readiness with how long it took.
 */

export interface DevLog {
  info(service: string, message: string): void;
  warn(service: string, message: string): void;
  error(service: string, message: string): void;
}

const COLORS: Record<string, number> = {
  build: 90,
  localnet: 36,
  market: 35,
  indexer: 34,
  verifier: 32,
  seed: 33,
  api: 94,
  stack: 37,
};

export function createDevLog(
  write: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
  color = process.stderr.isTTY === true,
): DevLog {
  const paint = (code: number, text: string) => (color ? `\u001b[${code}m${text}\u001b[0m` : text);
  const emit = (level: "info" | "warn" | "error", service: string, message: string) => {
    const time = new Date().toTimeString().slice(0, 8);
    const name = paint(COLORS[service] ?? 37, service.padEnd(8));
    const text =
      level === "info" ? message : paint(level === "warn" ? 33 : 31, `${level}: ${message}`);
    write(`${paint(90, time)} ${name} ${text}`);
  };
  return {
    info: (service, message) => emit("info", service, message),
    warn: (service, message) => emit("warn", service, message),
    error: (service, message) => emit("error", service, message),
  };
}

/** Seconds since `started` (performance.now()), for readiness lines. */
export function since(started: number): string {
  return `${((performance.now() - started) / 1000).toFixed(1)} s`;
}
