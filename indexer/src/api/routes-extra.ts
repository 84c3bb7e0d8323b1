/** Endpoints over the escrow and governance tables (filled in as their migrations land). */
import type { Route } from "./server.ts";

export const extraRoutes: Route[] = [];
