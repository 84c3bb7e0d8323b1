/** What an event handler gets: the batch's rows and where the event comes from. */
import type { BatchState } from "./state.ts";

export interface ApplyContext {
  /** The rows of the batch (state.ts): handlers read and write these, never the database. */
  s: BatchState;
  contract: string;
  height: number;
  timestampNs: string;
  receiptId: string;
  logIndex: number;
}

/**
 * The event relies on a record the index does not have (typically: indexing started after the
 * record was created). The event's changes are undone; it is recorded as invalid with this message
 * and reported, and the block still commits.
 */
export class ConsistencyError extends Error {
  override name = "ConsistencyError";
}
