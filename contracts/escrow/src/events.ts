/** The escrow's NEP-297 events: one `EVENT_JSON:{"standard":"gpumarket",...}` line per state change. */
import { near } from "near-sdk-js";
import type { EscrowEvent } from "../../common/src/escrow-types.ts";
import { formatEvent } from "../../common/src/event-format.ts";

export function emit(event: EscrowEvent): void {
  near.log(formatEvent(event.event, event.data));
}
