/** An Io for the command functions that sends their progress and lines to the stack's log. */
import type { Io } from "../io.ts";
import type { DevLog } from "./log.ts";

export function logIo(log: DevLog, service: string, lines = false): Io {
  return {
    json: false,
    line: (text) => {
      if (lines) log.info(service, text);
    },
    // "... done in 1.2 s" lines are kept; the "label ..." line before each is noise here.
    progress: (text) => {
      if (!text.endsWith(" ...")) log.info(service, text);
    },
    result: () => {},
  };
}
