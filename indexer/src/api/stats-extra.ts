/** Statistics of the escrow and governance tables (filled in as their migrations land). */
import type { Kysely } from "kysely";
import type { Database } from "../db/schema.ts";

export async function extraStats(_db: Kysely<Database>): Promise<Record<string, unknown>> {
  return {};
}
