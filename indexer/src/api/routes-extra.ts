/** Endpoints over the escrow tables (and governance's, once indexed). */
import { getJob, listBalances, listJobs } from "./jobs.ts";
import type { Route } from "./server.ts";

export const extraRoutes: Route[] = [
  { pattern: /^\/v1\/jobs$/, handler: (db, q) => listJobs(db, q) },
  { pattern: /^\/v1\/jobs\/([^/]+)$/, handler: (db, q, [id]) => getJob(db, id ?? "", q) },
  { pattern: /^\/v1\/balances$/, handler: (db, q) => listBalances(db, q) },
];
