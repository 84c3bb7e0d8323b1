/**
 * The chain's final height as the indexer last saw it, written with the cursor: API processes that
 * do not index (`serve`, `--api-workers`) report the lag from it.
 */
import { type Kysely, sql } from "kysely";

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE indexer_cursor ADD COLUMN final_height bigint`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE indexer_cursor DROP COLUMN final_height`.execute(db);
}
