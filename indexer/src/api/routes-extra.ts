/** Endpoints over the escrow and governance tables. */
import { getProposal, listHolders, listProposals, listVotes } from "./governance.ts";
import { getJob, listBalances, listJobs } from "./jobs.ts";
import type { Route } from "./server.ts";
import { getSession, listSessions } from "./sessions.ts";

export const extraRoutes: Route[] = [
  { pattern: /^\/v1\/jobs$/, handler: (db, q) => listJobs(db, q) },
  { pattern: /^\/v1\/jobs\/([^/]+)$/, handler: (db, q, [id]) => getJob(db, id ?? "", q) },
  { pattern: /^\/v1\/sessions$/, handler: (db, q) => listSessions(db, q) },
  {
    pattern: /^\/v1\/sessions\/([^/]+)$/,
    handler: (db, q, [id]) => getSession(db, id ?? "", q),
  },
  { pattern: /^\/v1\/balances$/, handler: (db, q) => listBalances(db, q) },
  { pattern: /^\/v1\/proposals$/, handler: (db, q) => listProposals(db, q) },
  {
    pattern: /^\/v1\/proposals\/([^/]+)$/,
    handler: (db, q, [id]) => getProposal(db, id ?? "", q),
  },
  {
    pattern: /^\/v1\/proposals\/([^/]+)\/votes$/,
    handler: (db, q, [id]) => listVotes(db, id ?? "", q),
  },
  { pattern: /^\/v1\/token\/holders$/, handler: (db, q) => listHolders(db, q) },
];
