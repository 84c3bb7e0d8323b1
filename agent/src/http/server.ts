/**
 * The provider's endpoint (PROTOCOL.md section 7) on node:http:
 *
 *   PUT /v1/jobs/{id}/request    the envelope; refused unless the job is on one of this agent's
 *                                machines and sha256(body) = its input_hash; idempotent
 *   GET /v1/jobs/{id}            waiting_for_request | running | delivered | failed
 *   GET /v1/jobs/{id}/response   the response file, once complete
 *   GET /v1/jobs/{id}/stream     the frames so far, then more as they are produced (chunked)
 *   POST /v1/sessions/{id}/requests  a session request: {envelope, model, voucher}; the sealed
 *                                frames stream back, then the machine-signed session receipt
 *   POST /v1/sessions/{id}/vouchers  a voucher alone (the client's last, for exactly what was charged)
 *   POST /v1/sessions/{id}/close     a voucher, and the agent closes the session on-chain with it
 *   GET /v1/sessions/{id}        the agent's view: charged, budget left, nonce, last receipt
 *   GET /v1/attestation          a machine's evidence bytes (?machine_id=N), to check against the
 *                                evidence hash the registry holds
 *   GET /health                  the agent, its backend, its queue and the chain cursor
 *
 * Only ciphertext passes here. Errors are short and generic; bodies are never logged.
 */
import { closeSync, openSync, readSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { MAX_ENVELOPE_BYTES, sha256Hex } from "@gpu-market/protocol";
import type { Agent } from "../agent.ts";
import { ChainUnreachable } from "../chain/near.ts";
import type { Logger } from "../log.ts";
import { type AnswerStream, SessionRefusal, type SessionService } from "../sessions/service.ts";
import type { Blobs } from "../store/blobs.ts";

export interface HealthReport {
  ok: boolean;
  [key: string]: unknown;
}

export interface EndpointOptions {
  agent: Agent;
  sessions: SessionService;
  blobs: Blobs;
  log: Logger;
  health: () => Promise<HealthReport>;
  /** A machine's evidence bytes; null when unknown, "ambiguous" when no id was given and several exist. */
  evidence: (machineId: string | null) => Uint8Array | null | "ambiguous";
}

class HttpError extends Error {
  readonly status: number;

  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

const JOB_ID = /^(0|[1-9][0-9]{0,19})$/;
const JOB_ROUTE = /^\/v1\/jobs\/([^/]+)(\/request|\/response|\/stream)?$/;
const SESSION_ROUTE = /^\/v1\/sessions\/([^/]+)(\/requests|\/vouchers|\/close)?$/;
/** A voucher body is small; a request body is an envelope and a voucher. */
const VOUCHER_BODY_BYTES = 4096;

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
    "cache-control": "no-store",
  });
  res.end(text);
}

function jobId(raw: string, what = "job id"): string {
  if (!JOB_ID.test(raw) || BigInt(raw) >= 2n ** 64n) {
    throw new HttpError(400, `${what}: expected a decimal u64`);
  }
  return raw;
}

/** Reads a body of at most `limit` bytes; a larger one is refused before it is all read. */
async function readBody(req: IncomingMessage, limit: number): Promise<Uint8Array> {
  const declared = Number(req.headers["content-length"] ?? "0");
  if (declared > limit) throw new HttpError(413, `request body: at most ${limit} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new HttpError(413, `request body: at most ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  return new Uint8Array(Buffer.concat(chunks));
}

export class Endpoint {
  readonly #o: EndpointOptions;
  readonly #server: Server;

  constructor(options: EndpointOptions) {
    this.#o = options;
    this.#server = createServer((req, res) => {
      this.#handle(req, res).catch((error) => {
        this.#o.log.error("endpoint: unexpected error", { error });
        if (!res.headersSent) send(res, 500, { error: "internal error" });
        else res.destroy();
      });
    });
    this.#server.requestTimeout = 120_000;
    // A stream of a long answer stays open; idle keep-alive sockets are closed quickly.
    this.#server.keepAliveTimeout = 5000;
  }

  async listen(host: string, port: number): Promise<{ host: string; port: number; url: string }> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once("error", reject);
      this.#server.listen(port, host, () => {
        this.#server.off("error", reject);
        resolve();
      });
    });
    const address = this.#server.address() as AddressInfo;
    const shown = address.family === "IPv6" ? `[${address.address}]` : address.address;
    return { host: address.address, port: address.port, url: `http://${shown}:${address.port}` };
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = Date.now();
    const url = new URL(req.url ?? "/", "http://agent");
    res.setHeader("access-control-allow-origin", "*");
    try {
      await this.#route(req, res, url);
    } catch (error) {
      if (error instanceof HttpError) {
        send(res, error.status, { error: error.message });
      } else if (error instanceof SessionRefusal) {
        send(res, error.status, { error: error.message, code: error.code });
      } else if (error instanceof ChainUnreachable) {
        this.#o.log.warn("endpoint: the chain does not answer", { error });
        send(res, 503, { error: "the chain cannot be reached now; try again" });
      } else {
        throw error;
      }
    } finally {
      const fields = {
        method: req.method,
        path: url.pathname,
        status: res.statusCode,
        ms: Date.now() - started,
      };
      if (req.method === "PUT" || req.method === "POST" || res.statusCode >= 500) {
        this.#o.log.info("http", fields);
      } else this.#o.log.debug("http", fields);
    }
  }

  async #route(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const method = req.method ?? "GET";
    if (method === "OPTIONS") {
      res.writeHead(204, {
        "access-control-allow-methods": "GET, PUT, POST, OPTIONS",
        "access-control-allow-headers": "content-type",
        "access-control-max-age": "600",
      });
      res.end();
      return;
    }
    if (url.pathname === "/health") {
      if (method !== "GET") throw new HttpError(405, "use GET");
      const report = await this.#o.health();
      send(res, report.ok ? 200 : 503, report);
      return;
    }
    if (url.pathname === "/v1/attestation") {
      if (method !== "GET") throw new HttpError(405, "use GET");
      this.#attestation(res, url.searchParams.get("machine_id"));
      return;
    }
    const session = SESSION_ROUTE.exec(url.pathname);
    if (session !== null) {
      await this.#session(req, res, session[1] ?? "", session[2]);
      return;
    }
    const match = JOB_ROUTE.exec(url.pathname);
    if (match === null) throw new HttpError(404, "no such route");
    const id = jobId(match[1] ?? "");
    const sub = match[2];
    if (sub === "/request") {
      if (method !== "PUT") throw new HttpError(405, "use PUT");
      await this.#putRequest(req, res, id);
      return;
    }
    if (method !== "GET") throw new HttpError(405, "use GET");
    if (sub === undefined) {
      const view = this.#o.agent.view(id);
      if (view === null) throw new HttpError(404, "no such job on this provider's machines");
      send(res, 200, view);
    } else if (sub === "/response") {
      this.#response(res, id);
    } else {
      await this.#stream(req, res, id);
    }
  }

  async #session(
    req: IncomingMessage,
    res: ServerResponse,
    rawId: string,
    sub: string | undefined,
  ): Promise<void> {
    const id = jobId(rawId, "session id");
    const sessions = this.#o.sessions;
    if (sub === undefined) {
      if (req.method !== "GET") throw new HttpError(405, "use GET");
      const view = sessions.view(id);
      if (view === null) throw new HttpError(404, "this agent has served no session with this id");
      send(res, 200, view);
      return;
    }
    if (req.method !== "POST") throw new HttpError(405, "use POST");
    if (sub !== "/requests") {
      const body = await readBody(req, VOUCHER_BODY_BYTES);
      send(res, 200, await sessions.submitVoucher(id, body, sub === "/close"));
      return;
    }
    // An envelope in JSON text, plus the model and the voucher.
    const body = await readBody(req, MAX_ENVELOPE_BYTES + VOUCHER_BODY_BYTES);
    const gone = new AbortController();
    res.on("close", () => {
      if (!res.writableFinished) gone.abort();
    });
    const answer: AnswerStream = {
      begin() {
        res.writeHead(200, {
          "content-type": "application/x-ndjson",
          "cache-control": "no-store",
          "x-accel-buffering": "no",
        });
      },
      write(line) {
        if (!res.destroyed) res.write(line);
      },
      gone: gone.signal,
    };
    await sessions.serveRequest(id, body, answer);
    res.end();
  }

  async #putRequest(req: IncomingMessage, res: ServerResponse, id: string): Promise<void> {
    const body = await readBody(req, MAX_ENVELOPE_BYTES);
    const result = await this.#o.agent.submitEnvelope(id, body);
    if (result.ok) {
      send(res, result.stored ? 202 : 200, result.view);
      return;
    }
    switch (result.reason) {
      case "unknown_job":
        throw new HttpError(404, "no such job waiting on this provider's machines");
      case "hash_mismatch":
        throw new HttpError(400, "the body's sha256 is not the job's input_hash");
      case "not_waiting":
        throw new HttpError(409, "the job is not waiting for a request");
    }
  }

  #response(res: ServerResponse, id: string): void {
    const record = this.#o.agent.record(id);
    if (record === undefined) throw new HttpError(404, "no such job on this provider's machines");
    const hash = record.delivery?.receipt.response_sha256;
    if (hash === undefined || !this.#o.blobs.hasResponse(hash)) {
      throw new HttpError(409, "the response is not complete");
    }
    const path = this.#o.blobs.responsePath(hash);
    const fd = openSync(path, "r");
    try {
      const chunks: Buffer[] = [];
      const buffer = Buffer.alloc(1 << 16);
      for (;;) {
        const n = readSync(fd, buffer, 0, buffer.length, null);
        if (n === 0) break;
        chunks.push(Buffer.from(buffer.subarray(0, n)));
      }
      const file = Buffer.concat(chunks);
      res.writeHead(200, {
        "content-type": "application/x-ndjson",
        "content-length": file.length,
        "x-response-sha256": sha256Hex(file),
        "cache-control": "no-store",
      });
      res.end(file);
    } finally {
      closeSync(fd);
    }
  }

  /**
   * The frames so far, then each new one as it is written, until the job stops streaming. The
   * partial file is read through one descriptor, which stays valid when the finished file is
   * renamed to its hash.
   */
  async #stream(req: IncomingMessage, res: ServerResponse, id: string): Promise<void> {
    const agent = this.#o.agent;
    let record = agent.record(id);
    if (record === undefined) throw new HttpError(404, "no such job on this provider's machines");
    if (record.state === "waiting" || record.state === "accepting" || record.state === "accepted") {
      // Wait for the stream to start (or the job to end without one).
      await new Promise<void>((resolve) => {
        const done = () => {
          agent.events.off(`start:${id}`, done);
          agent.events.off(`end:${id}`, done);
          req.off("close", done);
          resolve();
        };
        agent.events.on(`start:${id}`, done);
        agent.events.on(`end:${id}`, done);
        req.on("close", done);
      });
      record = agent.record(id);
    }
    if (record === undefined || res.destroyed) return;
    const hash = record.delivery?.receipt.response_sha256;
    let path: string;
    if (hash !== undefined && this.#o.blobs.hasResponse(hash))
      path = this.#o.blobs.responsePath(hash);
    else if (record.state === "running") path = this.#o.blobs.partialPath(id);
    else throw new HttpError(409, "the job has no answer to stream");
    let fd: number;
    try {
      fd = openSync(path, "r");
    } catch {
      throw new HttpError(409, "the job has no answer to stream");
    }
    res.writeHead(200, {
      "content-type": "application/x-ndjson",
      "cache-control": "no-store",
      "x-accel-buffering": "no",
    });
    let offset = 0;
    const buffer = Buffer.alloc(1 << 16);
    const pump = () => {
      for (;;) {
        const n = readSync(fd, buffer, 0, buffer.length, offset);
        if (n === 0) return;
        offset += n;
        res.write(Buffer.from(buffer.subarray(0, n)));
      }
    };
    const running = agent.record(id)?.state === "running";
    pump();
    if (running) {
      await new Promise<void>((resolve) => {
        const onFrame = () => pump();
        const done = () => {
          agent.events.off(`frame:${id}`, onFrame);
          agent.events.off(`end:${id}`, done);
          req.off("close", done);
          resolve();
        };
        agent.events.on(`frame:${id}`, onFrame);
        agent.events.on(`end:${id}`, done);
        req.on("close", done);
        // The stream may have ended between the first read and now.
        if (agent.record(id)?.state !== "running") done();
      });
      if (!res.destroyed) pump();
    }
    closeSync(fd);
    res.end();
  }

  #attestation(res: ServerResponse, machineId: string | null): void {
    if (machineId !== null && !JOB_ID.test(machineId)) {
      throw new HttpError(400, "machine_id: expected a decimal u64");
    }
    const bytes = this.#o.evidence(machineId);
    if (bytes === "ambiguous")
      throw new HttpError(400, "machine_id: this agent serves several machines; name one");
    if (bytes === null) throw new HttpError(404, "no evidence for this machine on this agent");
    res.writeHead(200, {
      "content-type": "application/octet-stream",
      "content-length": bytes.length,
      "x-evidence-sha256": sha256Hex(bytes),
    });
    res.end(bytes);
  }
}
