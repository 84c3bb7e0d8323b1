/**
 * AWS Signature Version 4 for S3 requests (the NEAR Lake source reads requester-pays buckets, which
 * need signed requests): canonical request, string to sign, the HMAC-SHA256 key chain and the
 * Authorization header, as AWS documents them ("Authenticating Requests: Using the Authorization
 * Header"; the examples there are this module's tests).
 */
import { createHash, createHmac } from "node:crypto";

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  /** Temporary credentials' session token (x-amz-security-token). */
  sessionToken?: string;
}

/** The hash of an empty payload (every request the source sends is a GET). */
export const EMPTY_PAYLOAD_SHA256 =
  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/** RFC 3986 percent-encoding of everything but the unreserved characters (as SigV4 wants). */
export function uriEncode(text: string, keepSlash = false): string {
  let out = "";
  for (const byte of Buffer.from(text, "utf8")) {
    const c = String.fromCharCode(byte);
    if (/[A-Za-z0-9\-_.~]/.test(c) || (keepSlash && c === "/")) out += c;
    else out += `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

function sha256Hex(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

function hmac(key: Buffer | string, text: string): Buffer {
  return createHmac("sha256", key).update(text, "utf8").digest();
}

/** 20130524T000000Z */
function amzDate(date: Date): string {
  return date
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d{3}/, "");
}

export interface SignInput {
  method: string;
  url: URL;
  /** Headers to sign besides host, x-amz-date, x-amz-content-sha256 (and the session token). */
  headers?: Record<string, string>;
  payloadSha256?: string;
  region: string;
  service?: string;
  credentials: AwsCredentials;
  date: Date;
}

/** The canonical request, string to sign and the headers to send (Authorization included). */
export function signRequest(input: SignInput): {
  canonicalRequest: string;
  stringToSign: string;
  headers: Record<string, string>;
} {
  const payload = input.payloadSha256 ?? EMPTY_PAYLOAD_SHA256;
  const when = amzDate(input.date);
  const day = when.slice(0, 8);
  const service = input.service ?? "s3";
  const headers: Record<string, string> = {
    ...Object.fromEntries(
      Object.entries(input.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]),
    ),
    host: input.url.host,
    "x-amz-content-sha256": payload,
    "x-amz-date": when,
  };
  if (input.credentials.sessionToken !== undefined) {
    headers["x-amz-security-token"] = input.credentials.sessionToken;
  }
  const names = Object.keys(headers).sort();
  const canonicalHeaders = names
    .map((name) => `${name}:${(headers[name] ?? "").trim().replace(/\s+/g, " ")}\n`)
    .join("");
  const signedHeaders = names.join(";");
  const query = [...input.url.searchParams.entries()]
    .map(([k, v]) => [uriEncode(k), uriEncode(v)] as const)
    .sort(([a, x], [b, y]) => (a === b ? (x < y ? -1 : x > y ? 1 : 0) : a < b ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join("&");
  // The path as sent (already percent-encoded by URL), decoded and encoded the SigV4 way.
  const path = uriEncode(decodeURIComponent(input.url.pathname), true);
  const canonicalRequest = [
    input.method,
    path,
    query,
    canonicalHeaders,
    signedHeaders,
    payload,
  ].join("\n");
  const scope = `${day}/${input.region}/${service}/aws4_request`;
  const stringToSign = ["AWS4-HMAC-SHA256", when, scope, sha256Hex(canonicalRequest)].join("\n");
  const key = hmac(
    hmac(hmac(hmac(`AWS4${input.credentials.secretAccessKey}`, day), input.region), service),
    "aws4_request",
  );
  const signature = createHmac("sha256", key).update(stringToSign, "utf8").digest("hex");
  const { host: _host, ...sent } = headers;
  return {
    canonicalRequest,
    stringToSign,
    headers: {
      ...sent,
      authorization: `AWS4-HMAC-SHA256 Credential=${input.credentials.accessKeyId}/${scope},SignedHeaders=${signedHeaders},Signature=${signature}`,
    },
  };
}
