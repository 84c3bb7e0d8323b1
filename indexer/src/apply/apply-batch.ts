/**
 * Applies the events of a batch of blocks inside an open transaction, set-based: the rows the
 * batch touches are found (a discovery run of the handlers) and loaded with one query per table,
 * the events are applied in chain order to those rows in memory (state.ts), and the final rows are
 * written with a few statements per table (write.ts), followed by what depends on them (machine
 * eligibility, machines' regions). The caller commits it together with the cursor.
 */
import type pg from "pg";
import { type Catalog, loadCatalog } from "../db/catalog.ts";
import type { ContractRole, Contracts } from "../decode/contracts.ts";
import type { DecodedEvent } from "../decode/decode-block.ts";
import { type ApplyContext, ConsistencyError } from "./context.ts";
import { eligibleUntil, refreshEligibility } from "./eligibility.ts";
import { escrowHandlers } from "./escrow.ts";
import { governanceHandlers, nep141Handlers } from "./governance.ts";
import { registryHandlers } from "./registry.ts";
import { BatchState, NotLoaded, type Row, type RowCache, WHOLE_TABLE } from "./state.ts";
import {
  insertRows,
  loadRows,
  syncRegions,
  type TableWrites,
  tableInfo,
  WRITE_ORDER,
  writeTables,
} from "./write.ts";

type AnyHandler = (ctx: ApplyContext, data: never) => void;

const HANDLERS: Record<ContractRole, Record<string, AnyHandler>> = {
  registry: registryHandlers,
  escrow: escrowHandlers,
  // The gpumarket and nep141 event names do not overlap.
  governance: { ...governanceHandlers, ...nep141Handlers },
};

/** A block's events, as far as applying them goes. */
export interface BlockEvents {
  height: number;
  hash: string;
  timestampNs: string;
  events: DecodedEvent[];
}

export interface BatchResult {
  applied: number;
  /** Events recorded but not applied (unknown, invalid, or inconsistent with the index). */
  problems: { height: number; event: DecodedEvent }[];
  /** The batch's rows as written (for the row cache, once committed). */
  state: BatchState;
}

/** The catalog of the tables a batch writes (read once per process and database). */
export function batchCatalog(client: pg.ClientBase): Promise<Catalog> {
  return loadCatalog(client, ["events", ...WRITE_ORDER]);
}

function handlerFor(event: DecodedEvent): AnyHandler {
  const handler = HANDLERS[event.role][event.event ?? ""];
  if (handler === undefined) {
    throw new Error(`no handler for ${event.role} event ${event.event}, which has a schema`);
  }
  return handler;
}

function contextOf(s: BatchState, block: BlockEvents, event: DecodedEvent): ApplyContext {
  return {
    s,
    contract: event.contract,
    height: block.height,
    timestampNs: block.timestampNs,
    receiptId: event.receiptId,
    logIndex: event.logIndex,
  };
}

/** Most discovery rounds before the real run (each round loads what the previous one found). */
const DISCOVERY_ROUNDS = 4;

/** One discovery round over the batch (state.ts): the rows it asked for that are not loaded. */
function discover(
  s: BatchState,
  blocks: BlockEvents[],
  registry: string | null,
): Map<string, Set<string>> {
  s.beginDiscovery();
  // Handlers stopping at a row discovery has not loaded yet throw often here; their stack
  // traces are never looked at.
  const stackTraceLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    discoverRound(s, blocks, registry);
  } finally {
    Error.stackTraceLimit = stackTraceLimit;
    s.endDiscovery();
  }
  return new Map(s.needs);
}

/**
 * eligible_until of the machines the batch adds, in memory (their rows are then written once):
 * unless a change in the batch calls for all machines or their provider's to be recomputed in SQL
 * anyway. Takes them out of the SQL refresh's scope.
 */
function eligibilityOfNewMachines(s: BatchState, registry: string | null): void {
  const scope = s.eligibility;
  if (registry === null || scope.all) return;
  for (const { key, origin, current, removed } of s.changes("machines")) {
    if (current === null || !(origin === null || removed)) continue;
    if (scope.providers.has(current.provider as string)) continue;
    const until = eligibleUntil(s, registry, current);
    s.put("machines", [key], { ...current, eligible_until: until });
    scope.machines.delete(key);
  }
}

function discoverRound(s: BatchState, blocks: BlockEvents[], registry: string | null): void {
  for (const block of blocks) {
    for (const event of block.events) {
      if (event.status !== "applied") continue;
      const handler = handlerFor(event);
      const ctx = contextOf(s, block, event);
      const mark = s.mark();
      try {
        for (const item of event.items) handler(ctx, item as never);
      } catch {
        // Whatever failed here is decided by the real run; discovery only collects keys.
        s.rollback(mark);
      }
    }
  }
  try {
    eligibilityOfNewMachines(s, registry);
  } catch {
    // As above: only the rows it asked for matter here.
  }
}

/** Loads rows into the batch; returns how many the database has. */
async function load(
  client: pg.ClientBase,
  catalog: Catalog,
  s: BatchState,
  table: string,
  keys: string[],
): Promise<number> {
  const info = tableInfo(catalog, table);
  const rows = await loadRows(client, info, keys);
  for (const { key, row } of rows) s.loaded(table, key, row);
  if (keys.includes(WHOLE_TABLE)) s.loadedWhole(table);
  for (const key of keys) if (key !== WHOLE_TABLE) s.loaded(table, key, null);
  return rows.length;
}

function eventRow(block: BlockEvents, event: DecodedEvent): Row {
  return {
    receipt_id: event.receiptId,
    log_index: event.logIndex,
    block_height: block.height,
    block_timestamp: block.timestampNs,
    block_hash: block.hash,
    shard_id: event.shardId,
    seq: event.seq,
    tx_hash: event.txHash,
    contract: event.contract,
    predecessor: event.predecessor,
    standard: event.standard,
    version: event.version,
    event: event.event,
    data: event.data,
    status: event.status,
    error: event.error,
  };
}

export async function applyBatch(
  client: pg.ClientBase,
  catalog: Catalog,
  contracts: Contracts,
  blocks: BlockEvents[],
  cache: RowCache | null = null,
): Promise<BatchResult> {
  const s = new BatchState(cache);
  const result: BatchResult = { applied: 0, problems: [], state: s };
  for (let round = 0; round < DISCOVERY_ROUNDS; round++) {
    const needs = discover(s, blocks, contracts.registry);
    let found = 0;
    for (const [table, keys] of needs) found += await load(client, catalog, s, table, [...keys]);
    // Every row the round read as absent is absent: the round ran as the real run will, and
    // another would find nothing new.
    if (found === 0) break;
  }
  const eventRows: Row[] = [];
  for (const block of blocks) {
    for (const event of block.events) {
      let recorded = event;
      if (event.status === "applied") {
        const handler = handlerFor(event);
        const ctx = contextOf(s, block, event);
        const mark = s.mark();
        for (;;) {
          try {
            for (const item of event.items) handler(ctx, item as never);
            result.applied++;
            break;
          } catch (error) {
            s.rollback(mark);
            if (error instanceof NotLoaded) {
              // A row discovery did not predict: load it, then apply the event again.
              await load(client, catalog, s, error.table, [error.key]);
              continue;
            }
            if (!(error instanceof ConsistencyError)) throw error;
            recorded = { ...event, status: "invalid", error: error.message };
            break;
          }
        }
      }
      if (recorded.status !== "applied")
        result.problems.push({ height: block.height, event: recorded });
      eventRows.push(eventRow(block, recorded));
    }
  }
  for (;;) {
    try {
      eligibilityOfNewMachines(s, contracts.registry);
      break;
    } catch (error) {
      if (!(error instanceof NotLoaded)) throw error;
      await load(client, catalog, s, error.table, [error.key]);
    }
  }
  // Raw events first: history rows (verdicts, job_history) reference them.
  await insertRows(client, tableInfo(catalog, "events"), eventRows);
  const writes: TableWrites[] = WRITE_ORDER.map((table) => {
    const w: TableWrites = {
      table,
      inserts: [],
      updates: [],
      deletes: [],
      appends: s.appended.get(table) ?? [],
    };
    for (const change of s.changes(table)) {
      const { origin, current, removed } = change;
      if (origin !== null && (current === null || removed)) w.deletes.push(change.key);
      if (current !== null) {
        if (origin === null || removed) w.inserts.push(current);
        else w.updates.push(current);
      }
    }
    return w;
  });
  await writeTables(client, catalog, writes);
  await syncRegions(client, s.regions);
  if (contracts.registry !== null)
    await refreshEligibility(client, contracts.registry, s.eligibility);
  return result;
}
