/** The dashboard's file handler on a real HTTP server, with a stand-in for the API behind it. */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serveDashboard } from "../../../indexer/src/api/dashboard.ts";

let server: Server;
let base: string;

beforeAll(async () => {
  server = createServer((request, response) => {
    if (serveDashboard(request, response)) return;
    response.writeHead(200, { "content-type": "text/plain" });
    response.end(`api ${request.method} ${request.url}`);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

describe("dashboard files beside the API", () => {
  it("redirects / and /dashboard to the page", async () => {
    for (const path of ["/", "/dashboard"]) {
      const response = await fetch(base + path, { redirect: "manual" });
      expect(response.status).toBe(302);
      expect(response.headers.get("location")).toBe("/dashboard/");
    }
  });

  it("serves the page and its modules with their types", async () => {
    const page = await fetch(`${base}/dashboard/`);
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
    const html = await page.text();
    expect(html).toContain('<script type="module" src="app.js">');
    const script = await fetch(`${base}/dashboard/app.js`);
    expect(script.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(await script.text()).toContain("import { getAll, getJson }");
    const css = await fetch(`${base}/dashboard/style.css`);
    expect(css.headers.get("content-type")).toBe("text/css; charset=utf-8");
  });

  it("answers HEAD without a body", async () => {
    const response = await fetch(`${base}/dashboard/app.js`, { method: "HEAD" });
    expect(response.status).toBe(200);
    expect(Number(response.headers.get("content-length"))).toBeGreaterThan(100);
    expect(await response.text()).toBe("");
  });

  it("names nothing outside its folder and 404s unknown files", async () => {
    for (const path of [
      "/dashboard/missing.js",
      "/dashboard/%2e%2e%2fpackage.json",
      "/dashboard/..%2F..%2Fpackage.json",
      "/dashboard/sub/app.js",
      "/dashboard/.hidden.js",
      "/dashboard/app.ts",
    ]) {
      const response = await fetch(base + path);
      expect(response.status, path).toBe(404);
      expect(await response.json()).toMatchObject({ error: { code: "not_found" } });
    }
  });

  it("leaves API paths and other methods to the API", async () => {
    expect(await (await fetch(`${base}/v1/machines?limit=1`)).text()).toBe(
      "api GET /v1/machines?limit=1",
    );
    expect(await (await fetch(`${base}/dashboard/`, { method: "POST" })).text()).toBe(
      "api POST /dashboard/",
    );
  });
});
