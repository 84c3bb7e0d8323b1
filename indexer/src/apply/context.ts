/** What an event handler gets: the open block transaction and where the event comes from. */
import type { Transaction } from "kysely";
import type { Database } from "../db/schema.ts";

export interface ApplyContext {
  tx: Transaction<Database>;
  contract: string;
  height: number;
  timestampNs: string;
  receiptId: string;
  logIndex: number;
}

/**
 * The event relies on a record the index does not have (typically: indexing started after the
 * record was created). Thrown before the handler writes anything; the event is then recorded as
 * invalid with this message and reported, and the block still commits.
 */
export class ConsistencyError extends Error {
  override name = "ConsistencyError";
}
