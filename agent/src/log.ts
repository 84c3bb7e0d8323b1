/**
 * Readable one-line logs on stderr (time, level, message, fields), or JSON lines with --json: the
 * indexer's logger. The agent logs steps, ids, timings and token counts; never a request or
 * response body, a prompt or an answer.
 */
export {
  createLogger,
  type Fields,
  type Logger,
  silentLogger,
} from "@gpu-market/indexer/src/log.ts";
