/**
 * Serves the dashboard (indexer/dashboard/: plain HTML, CSS and ES modules) beside the query API:
 * `/` and `/dashboard` redirect to `/dashboard/`, which serves index.html; `/dashboard/<file>`
 * serves one file of that folder. File names are checked against a strict pattern, so no path
 * outside the folder can be named.
 */
import { readFile } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { fileURLToPath } from "node:url";

export const DASHBOARD_DIR = fileURLToPath(new URL("../../dashboard/", import.meta.url));

const TYPES: Record<string, string> = {
  html: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  svg: "image/svg+xml",
};

const FILE = /^\/dashboard\/([a-z0-9][a-z0-9-]*\.(html|js|css|svg))$/;

function redirect(response: ServerResponse, location: string): void {
  response.writeHead(302, { location, "content-length": 0 });
  response.end();
}

function notFound(response: ServerResponse, path: string): void {
  const text = JSON.stringify({ error: { code: "not_found", message: `${path}: not found` } });
  response.writeHead(404, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
  });
  response.end(text);
}

async function sendFile(
  request: IncomingMessage,
  response: ServerResponse,
  name: string,
  path: string,
  dir: string,
): Promise<void> {
  const extension = name.slice(name.lastIndexOf(".") + 1);
  let body: Buffer;
  try {
    body = await readFile(dir + name);
  } catch {
    notFound(response, path);
    return;
  }
  response.writeHead(200, {
    "content-type": TYPES[extension] ?? "application/octet-stream",
    "content-length": body.length,
    // The files change with the checkout, not per request: revalidate rather than cache blindly.
    "cache-control": "no-cache",
    "x-content-type-options": "nosniff",
  });
  response.end(request.method === "HEAD" ? undefined : body);
}

/**
 * Handles the request when it is the dashboard's (returns true), otherwise leaves it to the API
 * (returns false). Only GET and HEAD are the dashboard's.
 */
export function serveDashboard(
  request: IncomingMessage,
  response: ServerResponse,
  dir: string = DASHBOARD_DIR,
): boolean {
  if (request.method !== "GET" && request.method !== "HEAD") return false;
  const path = new URL(request.url ?? "/", "http://localhost").pathname;
  if (path === "/" || path === "/dashboard") {
    redirect(response, "/dashboard/");
    return true;
  }
  if (path === "/dashboard/") {
    void sendFile(request, response, "index.html", path, dir);
    return true;
  }
  if (!path.startsWith("/dashboard/")) return false;
  const match = FILE.exec(path);
  if (match?.[1] === undefined) {
    notFound(response, path);
    return true;
  }
  void sendFile(request, response, match[1], path, dir);
  return true;
}
