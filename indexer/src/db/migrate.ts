/** Brings a database's schema up to date with kysely's Migrator (migrations listed in code). */
import type { Kysely } from "kysely";
import { type Migration, type MigrationProvider, Migrator } from "kysely/migration";
import * as m0001 from "./migrations/0001-core-and-registry.ts";
import * as m0002 from "./migrations/0002-escrow.ts";
import * as m0003 from "./migrations/0003-governance.ts";
import * as m0004 from "./migrations/0004-machine-keysets.ts";
import * as m0005 from "./migrations/0005-inference-jobs.ts";
import * as m0006 from "./migrations/0006-cursor-final-height.ts";
import * as m0007 from "./migrations/0007-sessions.ts";

const MIGRATIONS: Record<string, Migration> = {
  "0001-core-and-registry": m0001,
  "0002-escrow": m0002,
  "0003-governance": m0003,
  "0004-machine-keysets": m0004,
  "0005-inference-jobs": m0005,
  "0006-cursor-final-height": m0006,
  "0007-sessions": m0007,
};

class StaticProvider implements MigrationProvider {
  async getMigrations(): Promise<Record<string, Migration>> {
    return MIGRATIONS;
  }
}

/** Applies pending migrations; returns the names applied. Throws naming the one that failed. */
export async function migrateToLatest<T>(db: Kysely<T>): Promise<string[]> {
  const migrator = new Migrator({ db, provider: new StaticProvider() });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === "Error");
  if (error !== undefined || failed !== undefined) {
    throw new Error(
      `migration ${failed?.migrationName ?? "(unknown)"} failed: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  return (results ?? []).map((r) => r.migrationName);
}
