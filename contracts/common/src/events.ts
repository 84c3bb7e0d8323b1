/**
 * NEP-297 events. Every state change of a gpumarket contract logs exactly one
 * `EVENT_JSON:{"standard":"gpumarket","version":"1.0.0","event":...,"data":[{...}]}` line carrying
 * the full new data, so an indexer rebuilds its tables from logs alone.
 */
import { near } from "near-sdk-js";
import { formatEvent } from "./event-format.ts";
import type { GpuMarketEvent } from "./event-types.ts";

export function emitEvent(event: GpuMarketEvent): void {
  near.log(formatEvent(event.event, event.data));
}
