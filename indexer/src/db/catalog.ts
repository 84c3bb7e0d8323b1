/**
 * The shape of the indexed tables as the database has it (columns in order with their SQL types,
 * primary keys), read once from the catalog, so that bulk writes follow the migrations without a
 * second description in code.
 */
import type pg from "pg";
import type { ColumnKind } from "./copy.ts";

export interface Column {
  name: string;
  /** The column's type as SQL spells it (a cast target: `u128`, `jsonb`, `text[]`, ...). */
  type: string;
  kind: ColumnKind;
}

export interface TableInfo {
  name: string;
  columns: Column[];
  /** Primary key columns in key order. */
  key: Column[];
}

export type Catalog = Map<string, TableInfo>;

export async function loadCatalog(client: pg.ClientBase, tables: string[]): Promise<Catalog> {
  const columns = await client.query<{
    table: string;
    name: string;
    type: string;
    base: string;
    category: string;
    key_position: number | null;
  }>(
    `SELECT c.relname AS table, a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type,
       coalesce(bt.typname, t.typname) AS base, coalesce(bt.typcategory, t.typcategory) AS category,
       (SELECT array_position(i.indkey::int2[], a.attnum) - array_lower(i.indkey::int2[], 1)
          FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary) AS key_position
     FROM pg_attribute a
     JOIN pg_class c ON c.oid = a.attrelid
     JOIN pg_namespace n ON n.oid = c.relnamespace
     JOIN pg_type t ON t.oid = a.atttypid
     LEFT JOIN pg_type bt ON bt.oid = t.typbasetype AND t.typtype = 'd'
     WHERE n.nspname = current_schema() AND c.relname = ANY($1::text[])
       AND a.attnum > 0 AND NOT a.attisdropped
     ORDER BY c.relname, a.attnum`,
    [tables],
  );
  const catalog: Catalog = new Map();
  for (const row of columns.rows) {
    let info = catalog.get(row.table);
    if (info === undefined) {
      info = { name: row.table, columns: [], key: [] };
      catalog.set(row.table, info);
    }
    const kind: ColumnKind =
      row.base === "json" || row.base === "jsonb"
        ? "json"
        : row.category === "A"
          ? "array"
          : row.base === "bool"
            ? "bool"
            : "scalar";
    const column = { name: row.name, type: row.type, kind };
    info.columns.push(column);
    if (row.key_position !== null) info.key[row.key_position] = column;
  }
  for (const table of tables) {
    if (!catalog.has(table)) throw new Error(`table ${table} does not exist: migrate the database`);
  }
  return catalog;
}
