/**
 * Writes a batch's final rows (state.ts) in a few set-based statements per table: rows the
 * database lacks by COPY, changed rows by one UPDATE over unnest'ed arrays, deleted rows by one
 * DELETE; history rows by COPY. Loading is the same shape: one SELECT per table for every key the
 * batch needs. Statements are prepared (named) once per connection.
 */
import type pg from "pg";
import type { Catalog, Column, TableInfo } from "../db/catalog.ts";
import { copyIn, copyLine, textValue } from "../db/copy.ts";
import { keyParts, type Row, WHOLE_TABLE } from "./state.ts";

/** The tables events write, parents before children (foreign keys). */
export const WRITE_ORDER = [
  "registry_state",
  "providers",
  "machines",
  "machine_gpus",
  "attestations",
  "verdicts",
  "verifiers",
  "allowlist",
  "escrow_state",
  "escrow_tokens",
  "jobs",
  "job_history",
  "sessions",
  "session_history",
  "balances",
  "allowances",
  "approvals",
  "escrow_storage",
  "governance_state",
  "token_holders",
  "delegations",
  "delegates",
  "proposals",
  "votes",
  "blobs",
  "governance_storage",
];

/**
 * Columns kept by set-based statements after the rows are written (eligibility.ts, the provider's
 * region), so row updates leave them alone.
 */
const MAINTAINED: Record<string, string[]> = { machines: ["region", "eligible_until"] };

export function tableInfo(catalog: Catalog, table: string): TableInfo {
  const info = catalog.get(table);
  if (info === undefined) throw new Error(`no catalog entry for table ${table}`);
  return info;
}

/** Checks that `row` has exactly the table's columns (a missing or unknown one is a bug). */
function checkColumns(info: TableInfo, row: Row): void {
  let count = 0;
  for (const c of info.columns) {
    if (!(c.name in row)) throw new Error(`a ${info.name} row lacks column ${c.name}`);
    count++;
  }
  if (Object.keys(row).length !== count) {
    const unknown = Object.keys(row).find((name) => !info.columns.some((c) => c.name === name));
    throw new Error(`${info.name} has no column ${unknown}`);
  }
}

function columnText(info: TableInfo, c: Column, row: Row): string | null {
  try {
    return textValue(row[c.name], c.kind);
  } catch (error) {
    throw new Error(`${info.name}.${c.name}: ${(error as Error).message}`);
  }
}

/** The row's values (these columns, in order) as text input. */
function rowValues(info: TableInfo, row: Row, columns: Column[]): (string | null)[] {
  checkColumns(info, row);
  return columns.map((c) => columnText(info, c, row));
}

/** COPY rows into a table (every column). */
export async function insertRows(
  client: pg.ClientBase,
  info: TableInfo,
  rows: Row[],
): Promise<void> {
  if (rows.length === 0) return;
  const lines: string[] = [];
  const values: (string | null)[] = new Array(info.columns.length);
  for (const row of rows) {
    checkColumns(info, row);
    for (let i = 0; i < info.columns.length; i++) {
      values[i] = columnText(info, info.columns[i] as Column, row);
    }
    lines.push(copyLine(values));
  }
  await copyIn(
    client,
    `${info.name} (${info.columns.map((c) => c.name).join(", ")})`,
    lines.join(""),
  );
}

/** `s.k1 = t.k1::type AND ...` over unnest'ed text arrays named like the columns. */
function keyMatch(info: TableInfo, target: string): string {
  return info.key.map((c) => `${target}.${c.name} = s.${c.name}::${c.type}`).join(" AND ");
}

function unnest(columns: Column[], from = 1): string {
  const arrays = columns.map((_, i) => `$${from + i}::text[]`).join(", ");
  return `unnest(${arrays}) AS s(${columns.map((c) => c.name).join(", ")})`;
}

/** Column-wise text arrays of the given rows' values. */
function columnArrays(info: TableInfo, rows: Row[], columns: Column[]): (string | null)[][] {
  const arrays: (string | null)[][] = columns.map(() => []);
  for (const row of rows) {
    const values = rowValues(info, row, columns);
    for (let i = 0; i < values.length; i++) arrays[i]?.push(values[i] ?? null);
  }
  return arrays;
}

async function updateRows(client: pg.ClientBase, info: TableInfo, rows: Row[]): Promise<void> {
  if (rows.length === 0) return;
  const maintained = MAINTAINED[info.name] ?? [];
  const keyNames = new Set(info.key.map((c) => c.name));
  const set = info.columns.filter((c) => !keyNames.has(c.name) && !maintained.includes(c.name));
  const columns = [...info.key, ...set];
  const assignments = set.map((c) => `${c.name} = s.${c.name}::${c.type}`).join(", ");
  await client.query({
    name: `update_${info.name}`,
    text: `UPDATE ${info.name} AS t SET ${assignments} FROM ${unnest(columns)} WHERE ${keyMatch(info, "t")}`,
    values: columnArrays(info, rows, columns),
  });
}

function keyArrays(info: TableInfo, keys: string[]): string[][] {
  const arrays: string[][] = info.key.map(() => []);
  for (const key of keys) {
    const parts = keyParts(key);
    if (parts.length !== info.key.length) {
      throw new Error(`${info.name}: key ${JSON.stringify(key)} has ${parts.length} parts`);
    }
    parts.forEach((part, i) => {
      arrays[i]?.push(part);
    });
  }
  return arrays;
}

async function deleteRows(client: pg.ClientBase, info: TableInfo, keys: string[]): Promise<void> {
  if (keys.length === 0) return;
  await client.query({
    name: `delete_${info.name}`,
    text: `DELETE FROM ${info.name} AS t USING ${unnest(info.key)} WHERE ${keyMatch(info, "t")}`,
    values: keyArrays(info, keys),
  });
}

/** The rows at `keys` (WHOLE_TABLE: all rows), with their keys. */
export async function loadRows(
  client: pg.ClientBase,
  info: TableInfo,
  keys: string[],
): Promise<{ key: string; row: Row }[]> {
  const [single] = info.key;
  const result = keys.includes(WHOLE_TABLE)
    ? await client.query<Row>({ name: `load_all_${info.name}`, text: `SELECT * FROM ${info.name}` })
    : info.key.length === 1 && single !== undefined
      ? await client.query<Row>({
          name: `load_${info.name}`,
          text: `SELECT * FROM ${info.name} WHERE ${single.name} = ANY($1::text[]::${single.type}[])`,
          values: [keys],
        })
      : await client.query<Row>({
          name: `load_${info.name}`,
          text: `SELECT t.* FROM ${info.name} AS t JOIN ${unnest(info.key)} ON ${keyMatch(info, "t")}`,
          values: keyArrays(info, keys),
        });
  return result.rows.map((row) => ({
    key: info.key.map((c) => String(row[c.name])).join("\u0001"),
    row,
  }));
}

export interface TableWrites {
  table: string;
  inserts: Row[];
  updates: Row[];
  deletes: string[];
  appends: Row[];
}

/** Writes every table's changes: deletes children first, then inserts and appends parents first. */
export async function writeTables(
  client: pg.ClientBase,
  catalog: Catalog,
  writes: TableWrites[],
): Promise<void> {
  const byTable = new Map(writes.map((w) => [w.table, w]));
  for (const table of [...WRITE_ORDER].reverse()) {
    const w = byTable.get(table);
    if (w !== undefined) await deleteRows(client, tableInfo(catalog, table), w.deletes);
  }
  for (const table of WRITE_ORDER) {
    const w = byTable.get(table);
    if (w === undefined) continue;
    const info = tableInfo(catalog, table);
    await insertRows(client, info, [...w.inserts, ...w.appends]);
    await updateRows(client, info, w.updates);
  }
}

/** Copies each provider's region to its machines (the machines table keeps it for searches). */
export async function syncRegions(client: pg.ClientBase, providers: Set<string>): Promise<void> {
  if (providers.size === 0) return;
  await client.query({
    name: "sync_regions",
    text: `UPDATE machines AS m SET region = p.region FROM providers AS p
      WHERE p.account_id = ANY($1::text[]) AND m.provider = p.account_id AND m.region <> p.region`,
    values: [[...providers]],
  });
}
