/**
 * A small HTTP(S) GET for block sources: the whole body as a Buffer, keep-alive connections, no
 * redirects followed (the caller reads Location). node:http rather than fetch: reading a large
 * body through fetch's web streams costs several times the CPU, and catching up reads thousands
 * of blocks a second.
 */
import http from "node:http";
import https from "node:https";

export interface HttpAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

const agents = {
  http: new http.Agent({ keepAlive: true, maxSockets: 256 }),
  https: new https.Agent({ keepAlive: true, maxSockets: 256 }),
};

export function httpGet(
  url: string,
  options: { headers?: Record<string, string>; signal?: AbortSignal; timeoutMs: number },
): Promise<HttpAnswer> {
  const target = new URL(url);
  const secure = target.protocol === "https:";
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  return new Promise((resolve, reject) => {
    const request = (secure ? https : http).request(
      target,
      {
        method: "GET",
        agent: secure ? agents.https : agents.http,
        headers: options.headers,
        signal,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("error", reject);
        response.on("end", () =>
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            body: Buffer.concat(chunks),
          }),
        );
      },
    );
    request.on("error", (error) =>
      reject(signal.aborted && timeout.aborted ? new Error(`${url}: timed out`) : error),
    );
    request.end();
  });
}

/** The body as JSON; a body that is not JSON is an error naming the URL. */
export function jsonBody(answer: HttpAnswer, url: string): unknown {
  try {
    return JSON.parse(answer.body.toString("utf8"));
  } catch (error) {
    throw new Error(`${url}: the answer is not JSON (${(error as Error).message})`);
  }
}
