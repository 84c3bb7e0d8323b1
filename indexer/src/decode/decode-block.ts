/**
 * NEP-297 events of one block: every `EVENT_JSON:` log line of a successful receipt executed by one
 * of the configured contracts, in block order (shard, receipt, log line). Each line is validated
 * against its contract's schemas; one that is not known or does not match is kept with its status
 * and error, never dropped.
 */
import type { Block } from "../source/streamer-message.ts";
import { type ContractRole, type Contracts, roleOf } from "./contracts.ts";
import { SchemaError } from "./schema.ts";
import { schemaFor } from "./schemas.ts";

const PREFIX = "EVENT_JSON:";

export type EventStatus = "applied" | "unknown" | "invalid";

export interface DecodedEvent {
  receiptId: string;
  logIndex: number;
  shardId: number;
  /** Position among the recorded events of the block. */
  seq: number;
  txHash: string | null;
  contract: string;
  role: ContractRole;
  predecessor: string;
  standard: string | null;
  version: string | null;
  event: string | null;
  /** The event's `data` as logged (null when the line was not an event object). */
  data: unknown;
  /** Validated data items, when status is "applied". */
  items: unknown[];
  status: EventStatus;
  error: string | null;
}

export type Parsed = Pick<
  DecodedEvent,
  "standard" | "version" | "event" | "data" | "items" | "status" | "error"
>;

function invalid(error: string, fields: Partial<Parsed> = {}): Parsed {
  return {
    standard: null,
    version: null,
    event: null,
    data: null,
    items: [],
    ...fields,
    status: "invalid",
    error,
  };
}

/** Decodes and validates one event's JSON (the text after EVENT_JSON:) for a contract role. */
export function decodeEventJson(role: ContractRole, json: string): Parsed {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (error) {
    return invalid(`not JSON: ${(error as Error).message}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return invalid("not an event object");
  }
  const { standard, version, event, data } = value as Record<string, unknown>;
  if (typeof standard !== "string" || typeof version !== "string" || typeof event !== "string") {
    return invalid("standard, version and event must be strings", { data: data ?? null });
  }
  const base = { standard, version, event, data: data ?? null };
  const schema = schemaFor(role, standard, version, event);
  if (schema === null) {
    return {
      ...base,
      items: [],
      status: "unknown",
      error: `unknown event ${standard}/${version}/${event} for the ${role} contract`,
    };
  }
  if (!Array.isArray(data)) {
    return invalid("data: expected an array", base);
  }
  try {
    const items = data.map((item, i) => schema(item, `data[${i}]`));
    return { ...base, items, status: "applied", error: null };
  } catch (error) {
    if (error instanceof SchemaError) {
      return invalid(error.message, base);
    }
    throw error;
  }
}

export function decodeBlock(block: Block, contracts: Contracts): DecodedEvent[] {
  const events: DecodedEvent[] = [];
  for (const shard of block.shards) {
    for (const outcome of shard.outcomes) {
      const role = roleOf(contracts, outcome.executor);
      // Logs of failed receipts describe state changes that were rolled back.
      if (role === null || !outcome.succeeded) {
        continue;
      }
      outcome.logs.forEach((line, logIndex) => {
        if (!line.startsWith(PREFIX)) {
          return;
        }
        events.push({
          receiptId: outcome.receiptId,
          logIndex,
          shardId: shard.shardId,
          seq: events.length,
          txHash: outcome.txHash,
          contract: outcome.executor,
          role,
          predecessor: outcome.predecessor,
          ...decodeEventJson(role, line.slice(PREFIX.length)),
        });
      });
    }
  }
  return events;
}
