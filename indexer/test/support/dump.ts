/** Every indexed table's rows in a fixed order, for comparing two databases. */
import { sql } from "kysely";
import type { DatabaseHandle } from "../../src/db/database.ts";

const TABLES: Record<string, string> = {
  indexer_cursor: "id",
  events: "block_height, seq",
  registry_state: "contract",
  providers: "account_id",
  machines: "id",
  machine_gpus: "machine_id, position",
  attestations: "machine_id",
  verdicts: "block_height, receipt_id, log_index",
  verifiers: "account_id",
  allowlist: "measurement_id",
  escrow_state: "contract",
  escrow_tokens: "token",
  jobs: "id",
  job_history: "block_height, receipt_id, log_index",
  sessions: "id",
  session_history: "block_height, receipt_id, log_index",
  balances: "account_id, asset",
  allowances: "owner, spender, asset",
  approvals: "id",
  escrow_storage: "account_id",
  governance_state: "contract",
  token_holders: "account_id",
  delegations: "delegator",
  delegates: "account_id",
  proposals: "id",
  votes: "proposal_id, voter",
  blobs: "code_sha256",
  governance_storage: "account_id",
};

export async function dumpTables(handle: DatabaseHandle): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const [table, order] of Object.entries(TABLES)) {
    const rows = await sql
      .raw<Record<string, unknown>>(`SELECT * FROM ${table} ORDER BY ${order}`)
      .execute(handle.db);
    out[table] = rows.rows.map((row) => {
      // When the row was written and the chain's head at that moment are not indexed data.
      const { updated_at: _at, final_height: _final, ...rest } = row;
      return table === "indexer_cursor" ? rest : row;
    });
  }
  return out;
}
