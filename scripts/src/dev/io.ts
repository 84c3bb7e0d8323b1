/** An Io for the command functions that sends their progress and lines to the stack's log. */
import type { Io } from "../io.ts";
import type { DevLog } from "./log.ts";

export function logIo(log: DevLog, service: string, progress = true): Io {
  return {
    json: false,
    line: () => {},
    // "... done in 1.2 s" lines are kept; the "label ..." line before each is noise here.
    progress: (text) => {
      if (progress && !text.endsWith(" ...")) log.info(service, text);
    },
    result: () => {},
  };
}
