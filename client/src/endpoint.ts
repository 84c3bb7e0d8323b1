/**
 * HTTP to the provider agent at the provider's registered endpoint (PROTOCOL.md section 7 and
 * "Sessions"). Paths are /v1/jobs/{id}/..., /v1/sessions/{id}/..., /v1/attestation and /health
 * under the endpoint's origin and path; an
 * endpoint registered with a trailing "/v1" is taken as that same base. Everything read is
 * bounded in size; nothing read here is trusted: the caller checks it against the chain.
 */
import type { SessionReceipt } from "@gpu-market/protocol";
import { ClientError, clientError, messageOf } from "./errors.ts";

/** Evidence is at most 32 KiB on-chain; answers are bounded by the protocol's frame limit. */
export const MAX_ATTESTATION_BYTES = 64 * 1024;
export const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;
const RETRY_STATUSES = new Set([404, 425, 429, 500, 502, 503, 504]);

export interface EndpointOptions {
  fetch?: typeof fetch;
  /** Per request (not for the stream), default 30 s. */
  timeoutMs?: number;
}

/** The agent's view of a job (GET /v1/jobs/{id}). */
export interface AgentJobStatus {
  status: string;
  [field: string]: unknown;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function readLimited(response: Response, limit: number, what: string): Promise<Uint8Array> {
  const declared = Number(response.headers.get("content-length") ?? "0");
  if (declared > limit)
    clientError("endpoint_error", `${what}: ${declared} bytes, at most ${limit}`);
  const chunks: Uint8Array[] = [];
  let total = 0;
  if (response.body === null) return new Uint8Array(0);
  for await (const chunk of response.body) {
    total += chunk.length;
    if (total > limit) clientError("endpoint_error", `${what}: more than ${limit} bytes`);
    chunks.push(chunk);
  }
  return new Uint8Array(Buffer.concat(chunks));
}

async function errorText(response: Response): Promise<string> {
  const text = await response.text().catch(() => "");
  return text.slice(0, 300).replace(/\s+/g, " ").trim();
}

/** The endpoint's origin and path, without a trailing slash or "/v1". */
function baseUrlOf(endpoint: string): string {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return clientError("endpoint_error", `provider endpoint "${endpoint}" is not a URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    clientError("endpoint_error", `provider endpoint "${endpoint}" is not an http(s) URL`);
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, "").replace(/\/v1$/, "")}`;
}

export class ProviderEndpoint {
  readonly baseUrl: string;
  private readonly fetch: typeof fetch;
  private readonly timeoutMs: number;

  constructor(endpoint: string, options: EndpointOptions = {}) {
    this.baseUrl = baseUrlOf(endpoint);
    this.fetch = options.fetch ?? globalThis.fetch;
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  url(path: string): string {
    return `${this.baseUrl}${path}`;
  }

  /** The answer, or why there is none (unreachable, timed out). */
  private async attempt(path: string, init: RequestInit): Promise<Response | string> {
    try {
      return await this.fetch(this.url(path), {
        signal: AbortSignal.timeout(this.timeoutMs),
        ...init,
      });
    } catch (error) {
      return messageOf(error);
    }
  }

  private async request(path: string, init: RequestInit = {}): Promise<Response> {
    const outcome = await this.attempt(path, init);
    if (typeof outcome === "string") {
      clientError("endpoint_error", `${init.method ?? "GET"} ${this.url(path)}: ${outcome}`);
    }
    return outcome;
  }

  private async ok(path: string, init: RequestInit = {}): Promise<Response> {
    const response = await this.request(path, init);
    if (!response.ok) {
      clientError(
        "endpoint_error",
        `${init.method ?? "GET"} ${this.url(path)}: HTTP ${response.status} ${await errorText(response)}`,
      );
    }
    return response;
  }

  /**
   * Uploads the envelope. The agent may not have seen the job on-chain yet (404) or be busy (429,
   * 5xx): retried until `untilMs` (wall clock), then the last answer is reported.
   */
  async putRequest(jobId: string, envelope: Uint8Array, untilMs: number): Promise<void> {
    const path = `/v1/jobs/${jobId}/request`;
    let wait = 250;
    for (;;) {
      const outcome = await this.attempt(path, {
        method: "PUT",
        headers: { "content-type": "application/json" },
        body: envelope,
      });
      let last: string;
      if (typeof outcome === "string") {
        last = outcome;
      } else {
        if (outcome.ok) {
          await outcome.body?.cancel();
          return;
        }
        last = `HTTP ${outcome.status} ${await errorText(outcome)}`;
        if (!RETRY_STATUSES.has(outcome.status)) {
          clientError("endpoint_error", `PUT ${this.url(path)}: ${last}`, { jobId });
        }
      }
      if (Date.now() + wait > untilMs) {
        clientError("endpoint_error", `PUT ${this.url(path)}: gave up: ${last}`, { jobId });
      }
      await sleep(wait);
      wait = Math.min(wait * 2, 2000);
    }
  }

  async status(jobId: string): Promise<AgentJobStatus> {
    const response = await this.ok(`/v1/jobs/${jobId}`);
    const body = (await response.json().catch(() => null)) as AgentJobStatus | null;
    if (typeof body?.status !== "string") {
      clientError(
        "endpoint_error",
        `GET ${this.url(`/v1/jobs/${jobId}`)}: no status in the answer`,
      );
    }
    return body;
  }

  /** The response file (ciphertext frames), once the agent has delivered. */
  async response(jobId: string): Promise<Uint8Array> {
    const response = await this.ok(`/v1/jobs/${jobId}/response`);
    return readLimited(response, MAX_RESPONSE_BYTES, `job ${jobId}'s response`);
  }

  /** A machine's evidence bytes, as submitted to the registry (an agent may serve several). */
  async attestation(machineId: string): Promise<Uint8Array> {
    const response = await this.ok(`/v1/attestation?machine_id=${encodeURIComponent(machineId)}`);
    return readLimited(response, MAX_ATTESTATION_BYTES, "the attestation");
  }

  async health(): Promise<unknown> {
    return (await this.ok("/health")).json();
  }

  /**
   * Reads the job's frames as the agent produces them, one line at a time, until the agent ends
   * the stream or `signal` aborts it. A line is passed on only once its newline has arrived.
   */
  async stream(jobId: string, onLine: (line: string) => void, signal: AbortSignal): Promise<void> {
    const url = this.url(`/v1/jobs/${jobId}/stream`);
    let response: Response;
    try {
      response = await this.fetch(url, { signal });
    } catch (error) {
      return clientError("endpoint_error", `GET ${url}: ${messageOf(error)}`, { cause: error });
    }
    if (!response.ok || response.body === null) {
      clientError(
        "endpoint_error",
        `GET ${url}: HTTP ${response.status} ${await errorText(response)}`,
      );
    }
    const decoder = new TextDecoder("utf-8", { fatal: true });
    let pending = "";
    let total = 0;
    for await (const chunk of response.body) {
      total += chunk.length;
      if (total > MAX_RESPONSE_BYTES) {
        clientError("endpoint_error", `GET ${url}: more than ${MAX_RESPONSE_BYTES} bytes`);
      }
      pending += decoder.decode(chunk, { stream: true });
      let newline = pending.indexOf("\n");
      while (newline >= 0) {
        onLine(pending.slice(0, newline));
        pending = pending.slice(newline + 1);
        newline = pending.indexOf("\n");
      }
    }
  }

  /** A session refusal ({error, code}) as a ClientError naming the agent's code. */
  private async refusal(response: Response, what: string, sessionId: string): Promise<never> {
    const text = await response.text().catch(() => "");
    let body: { error?: unknown; code?: unknown } | null = null;
    try {
      body = JSON.parse(text) as { error?: unknown; code?: unknown };
    } catch {
      // not the agent's JSON error: reported as text below
    }
    const message = typeof body?.error === "string" ? body.error : text.slice(0, 300).trim();
    const code = typeof body?.code === "string" ? body.code : undefined;
    return clientError(
      "session_refused",
      `${what}: HTTP ${response.status} ${code === undefined ? "" : `${code}: `}${message}`,
      { sessionId, failureCode: code },
    );
  }

  /**
   * POST /v1/sessions/{id}/requests: sends the envelope and its voucher, then passes each line of
   * the answer (frames, then the receipt or an error) to `onLine` as it arrives.
   */
  async sessionRequest(
    sessionId: string,
    body: { envelope: string; model: string; voucher: unknown },
    onLine: (line: string) => void,
  ): Promise<void> {
    const path = `/v1/sessions/${sessionId}/requests`;
    const url = this.url(path);
    let response: Response;
    try {
      response = await this.fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    } catch (error) {
      return clientError("endpoint_error", `POST ${url}: ${messageOf(error)}`, {
        sessionId,
        cause: error,
      });
    }
    if (!response.ok || response.body === null) {
      return this.refusal(response, `POST ${url}`, sessionId);
    }
    const decoder = new TextDecoder("utf-8", { fatal: true });
    let pending = "";
    let total = 0;
    try {
      for await (const chunk of response.body) {
        total += chunk.length;
        if (total > MAX_RESPONSE_BYTES) {
          clientError("endpoint_error", `POST ${url}: more than ${MAX_RESPONSE_BYTES} bytes`);
        }
        pending += decoder.decode(chunk, { stream: true });
        let newline = pending.indexOf("\n");
        while (newline >= 0) {
          onLine(pending.slice(0, newline));
          pending = pending.slice(newline + 1);
          newline = pending.indexOf("\n");
        }
      }
    } catch (error) {
      if (error instanceof ClientError) throw error;
      return clientError("endpoint_error", `POST ${url}: the answer broke (${messageOf(error)})`, {
        sessionId,
        cause: error,
      });
    }
    if (pending !== "") onLine(pending);
  }

  /** POST /v1/sessions/{id}/vouchers or /close with {voucher}: the agent's view after it. */
  async sessionVoucher(
    sessionId: string,
    voucher: unknown,
    close: boolean,
  ): Promise<SessionAgentView> {
    const path = `/v1/sessions/${sessionId}/${close ? "close" : "vouchers"}`;
    const response = await this.request(path, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ voucher }),
      // Closing waits for the agent's close_session to be final.
      signal: AbortSignal.timeout(Math.max(this.timeoutMs, 120_000)),
    });
    if (!response.ok) return this.refusal(response, `POST ${this.url(path)}`, sessionId);
    return (await response.json()) as SessionAgentView;
  }

  /** GET /v1/sessions/{id}: the agent's view (charged, nonce, last signed receipt). */
  async sessionView(sessionId: string): Promise<SessionAgentView> {
    const response = await this.ok(`/v1/sessions/${sessionId}`);
    return (await response.json()) as SessionAgentView;
  }
}

/** What the agent says of a session (GET /v1/sessions/{id}); checked before anything is trusted. */
export interface SessionAgentView {
  session_id: string;
  status: string;
  charged: string;
  nonce: string;
  requests: number;
  last_receipt: { receipt: SessionReceipt; signature: string } | null;
  [field: string]: unknown;
}
