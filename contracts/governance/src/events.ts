/**
 * Events: one gpumarket NEP-297 line per state change (full data, for the indexer), and the
 * standard nep141 lines for token mints and transfers.
 */
import { near } from "near-sdk-js";
import { EVENT_PREFIX, formatEvent } from "../../common/src/event-format.ts";
import type { GovernanceEvent } from "../../common/src/governance-types.ts";

export function emit(event: GovernanceEvent): void {
  near.log(formatEvent(event.event, event.data));
}

function emitNep141(event: string, data: Record<string, string>): void {
  near.log(
    `${EVENT_PREFIX}${JSON.stringify({ standard: "nep141", version: "1.0.0", event, data: [data] })}`,
  );
}

export function emitMint(owner: string, amount: bigint): void {
  emitNep141("ft_mint", { owner_id: owner, amount: amount.toString(), memo: "initial supply" });
}

export function emitTransfer(from: string, to: string, amount: bigint, memo: string | null): void {
  const data: Record<string, string> = {
    old_owner_id: from,
    new_owner_id: to,
    amount: amount.toString(),
  };
  if (memo !== null) {
    data.memo = memo;
  }
  emitNep141("ft_transfer", data);
}
