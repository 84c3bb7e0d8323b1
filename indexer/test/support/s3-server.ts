/**
 * A local HTTP server that speaks the part of S3 the NEAR Lake source uses, for tests (only
 * localhost is reachable here): ListObjectsV2 (list-type=2, delimiter "/", start-after, max-keys)
 * and GetObject, path-style (`/<bucket>/<key>`), with SigV4 checked on every request (the
 * signature recomputed from the request as received, and the requester-pays header). Objects can
 * be added while it runs; failures can be injected.
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { type AwsCredentials, signRequest } from "../../src/source/sigv4.ts";

export interface S3Server {
  endpoint: string;
  objects: Map<string, string>;
  /** Requests answered, by kind. */
  counts: { list: number; get: number; refused: number };
  /** Answers the next `n` requests with this HTTP status (an S3 error body). */
  failNext(n: number, status: number, code: string): void;
  close(): Promise<void>;
}

function xml(body: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n${body}`;
}

function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function errorXml(code: string, message: string): string {
  return xml(`<Error><Code>${code}</Code><Message>${escapeXml(message)}</Message></Error>`);
}

/** Whether the request carries a valid SigV4 Authorization for these credentials. */
function signatureValid(
  request: IncomingMessage,
  url: URL,
  region: string,
  credentials: AwsCredentials,
): boolean {
  const authorization = request.headers.authorization ?? "";
  const match = /SignedHeaders=([^,]+),Signature=[0-9a-f]{64}$/.exec(authorization);
  const date = request.headers["x-amz-date"];
  if (match === null || typeof date !== "string") return false;
  const own = new Set(["host", "x-amz-date", "x-amz-content-sha256", "x-amz-security-token"]);
  const headers: Record<string, string> = {};
  for (const name of (match[1] ?? "").split(";")) {
    const value = request.headers[name];
    if (!own.has(name) && typeof value === "string") headers[name] = value;
  }
  const when = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(date);
  if (when === null) return false;
  const expected = signRequest({
    method: request.method ?? "GET",
    url,
    headers,
    region,
    credentials,
    date: new Date(`${when[1]}-${when[2]}-${when[3]}T${when[4]}:${when[5]}:${when[6]}Z`),
  });
  return expected.headers.authorization === authorization;
}

export async function startS3Server(options: {
  bucket: string;
  region: string;
  credentials: AwsCredentials;
}): Promise<S3Server> {
  const objects = new Map<string, string>();
  const counts = { list: 0, get: 0, refused: 0 };
  let failures: { left: number; status: number; code: string } = { left: 0, status: 0, code: "" };
  const server: Server = createServer((request, response) => {
    const url = new URL(request.url ?? "/", `http://${request.headers.host}`);
    const send = (status: number, body: string, type = "application/xml") => {
      response.writeHead(status, { "content-type": type }).end(body);
    };
    if (
      !signatureValid(request, url, options.region, options.credentials) ||
      request.headers["x-amz-request-payer"] !== "requester"
    ) {
      counts.refused++;
      send(403, errorXml("SignatureDoesNotMatch", "the request signature does not match"));
      return;
    }
    if (failures.left > 0) {
      failures.left--;
      send(failures.status, errorXml(failures.code, "injected failure"));
      return;
    }
    const [, bucket, ...rest] = url.pathname.split("/");
    if (bucket !== options.bucket) {
      send(404, errorXml("NoSuchBucket", `no bucket ${bucket}`));
      return;
    }
    const key = decodeURIComponent(rest.join("/"));
    if (key === "" && url.searchParams.get("list-type") === "2") {
      counts.list++;
      const startAfter = url.searchParams.get("start-after") ?? "";
      const maxKeys = Number(url.searchParams.get("max-keys") ?? "1000");
      const delimiter = url.searchParams.get("delimiter");
      const entries: string[] = [];
      for (const name of [...objects.keys()].sort()) {
        if (name <= startAfter) continue;
        const cut = delimiter === null ? -1 : name.indexOf(delimiter);
        const entry = cut === -1 ? name : name.slice(0, cut + 1);
        if (entries[entries.length - 1] !== entry) entries.push(entry);
      }
      const page = entries.slice(0, maxKeys);
      const truncated = entries.length > maxKeys;
      const items = page
        .map((entry) =>
          entry.endsWith("/")
            ? `<CommonPrefixes><Prefix>${escapeXml(entry)}</Prefix></CommonPrefixes>`
            : `<Contents><Key>${escapeXml(entry)}</Key></Contents>`,
        )
        .join("");
      send(
        200,
        xml(
          `<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>${options.bucket}</Name><Prefix></Prefix><StartAfter>${escapeXml(startAfter)}</StartAfter><KeyCount>${page.length}</KeyCount><MaxKeys>${maxKeys}</MaxKeys><Delimiter>${escapeXml(delimiter ?? "")}</Delimiter><IsTruncated>${truncated}</IsTruncated>${items}</ListBucketResult>`,
        ),
      );
      return;
    }
    counts.get++;
    const body = objects.get(key);
    if (body === undefined) {
      send(404, errorXml("NoSuchKey", `no key ${key}`));
      return;
    }
    send(200, body, "application/json");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    objects,
    counts,
    failNext(n, status, code) {
      failures = { left: n, status, code };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
