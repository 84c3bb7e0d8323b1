/** The NEP-297 log line of a gpumarket event. Host-independent, so unit-tested in Node. */
export const EVENT_STANDARD = "gpumarket";
export const EVENT_VERSION = "1.0.0";
export const EVENT_PREFIX = "EVENT_JSON:";

export function formatEvent(event: string, data: object): string {
  return `${EVENT_PREFIX}${JSON.stringify({
    standard: EVENT_STANDARD,
    version: EVENT_VERSION,
    event,
    data: [data],
  })}`;
}
