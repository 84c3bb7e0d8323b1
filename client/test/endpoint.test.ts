import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { MAX_ATTESTATION_BYTES, ProviderEndpoint } from "../src/endpoint.ts";
import { ClientError } from "../src/errors.ts";

type Handler = (req: IncomingMessage, res: ServerResponse, body: Buffer) => void;

let server: Server | undefined;
afterEach(() => {
  server?.closeAllConnections();
  server?.close();
  server = undefined;
});

/** An agent stand-in; returns its base URL and the requests it saw. */
async function agent(handler: Handler): Promise<{ url: string; seen: string[] }> {
  const seen: string[] = [];
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      seen.push(`${req.method} ${req.url}`);
      handler(req, res, Buffer.concat(chunks));
    });
  });
  await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

async function fails(promise: Promise<unknown>, message: RegExp): Promise<ClientError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ClientError);
  expect((error as ClientError).code).toBe("endpoint_error");
  expect((error as ClientError).message).toMatch(message);
  return error as ClientError;
}

describe("provider endpoint", () => {
  it("takes the registered endpoint with or without a trailing /v1 as the same base", () => {
    expect(new ProviderEndpoint("https://alice.example/v1").url("/v1/jobs/3")).toBe(
      "https://alice.example/v1/jobs/3",
    );
    expect(new ProviderEndpoint("https://alice.example/gpu/").url("/health")).toBe(
      "https://alice.example/gpu/health",
    );
    expect(() => new ProviderEndpoint("ftp://alice.example")).toThrow(/not an http\(s\) URL/);
    expect(() => new ProviderEndpoint("alice")).toThrow(/"alice" is not a URL/);
  });

  it("uploads the envelope, retrying while the agent has not seen the job yet", async () => {
    let attempts = 0;
    let received = "";
    const api = await agent((_req, res, body) => {
      attempts += 1;
      if (attempts < 3) {
        res.writeHead(404).end("job 7 is not known yet");
        return;
      }
      received = body.toString();
      res.writeHead(204).end();
    });
    const envelope = new TextEncoder().encode('{"ciphertext":"AA=="}');
    await new ProviderEndpoint(`${api.url}/v1`).putRequest("7", envelope, Date.now() + 10_000);
    expect(attempts).toBe(3);
    expect(received).toBe('{"ciphertext":"AA=="}');
    expect(api.seen).toEqual(Array(3).fill("PUT /v1/jobs/7/request"));
  });

  it("reports a refused upload at once, and gives up on retries at the deadline", async () => {
    const api = await agent((req, res) => {
      if (req.url?.includes("/jobs/1/")) res.writeHead(409).end('{"error":"input_hash mismatch"}');
      else res.writeHead(503).end("busy");
    });
    const endpoint = new ProviderEndpoint(api.url);
    const refused = await fails(
      endpoint.putRequest("1", new Uint8Array(1), Date.now() + 10_000),
      /PUT http:\/\/127.0.0.1:\d+\/v1\/jobs\/1\/request: HTTP 409 \{"error":"input_hash mismatch"\}/,
    );
    expect(refused.jobId).toBe("1");
    await fails(
      endpoint.putRequest("2", new Uint8Array(1), Date.now() + 600),
      /PUT .*\/v1\/jobs\/2\/request: gave up: HTTP 503 busy/,
    );
    await fails(
      new ProviderEndpoint("http://127.0.0.1:9").putRequest("3", new Uint8Array(1), Date.now()),
      /gave up: fetch failed/,
    );
  });

  it("fetches the job status, the response file and the attestation", async () => {
    const file = Buffer.from('{"frame":0}\n{"frame":1}\n');
    const api = await agent((req, res) => {
      if (req.url === "/v1/jobs/4") res.end(JSON.stringify({ status: "running", queue: 0 }));
      else if (req.url === "/v1/jobs/4/response") res.end(file);
      else if (req.url === "/v1/attestation?machine_id=4") res.end(Buffer.from([1, 2, 3]));
      else res.writeHead(404).end("no such job");
    });
    const endpoint = new ProviderEndpoint(api.url);
    expect(await endpoint.status("4")).toEqual({ status: "running", queue: 0 });
    expect(Buffer.from(await endpoint.response("4")).equals(file)).toBe(true);
    expect([...(await endpoint.attestation("4"))]).toEqual([1, 2, 3]);
    await fails(endpoint.response("5"), /GET .*\/v1\/jobs\/5\/response: HTTP 404 no such job/);
  });

  it("refuses answers larger than their bound", async () => {
    const api = await agent((_req, res) => res.end(Buffer.alloc(MAX_ATTESTATION_BYTES + 1)));
    await fails(
      new ProviderEndpoint(api.url).attestation("0"),
      /the attestation: \d+ bytes, at most 65536/,
    );
  });

  it("streams frames line by line as they arrive, however the bytes are split", async () => {
    const api = await agent((_req, res) => {
      res.writeHead(200, { "content-type": "application/x-ndjson" });
      res.write('{"a":1}\n{"b"');
      setTimeout(() => {
        res.write(':2}\n{"c":3}');
        setTimeout(() => res.end("\n"), 20);
      }, 20);
    });
    const lines: string[] = [];
    await new ProviderEndpoint(api.url).stream(
      "6",
      (line) => lines.push(line),
      new AbortController().signal,
    );
    expect(lines).toEqual(['{"a":1}', '{"b":2}', '{"c":3}']);
    expect(api.seen).toEqual(["GET /v1/jobs/6/stream"]);
  });
});
