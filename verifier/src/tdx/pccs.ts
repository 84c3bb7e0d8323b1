/**
 * Collateral from a PCCS-compatible service (Intel PCS API v4, or a local PCCS): TDX TCB info
 * and QE identity, the PCK CRL and the root CA CRL, each with its issuer chain from the
 * response headers. The signed JSON objects are cut from the response body verbatim, since
 * their signatures cover the exact text. Network and HTTP failures throw plain Errors: the
 * service retries those; they never become verdicts.
 */
import { fromHex } from "../bytes.ts";
import type { Collateral } from "./collateral.ts";

/** Intel PCS serves no root CA CRL: Intel publishes it at the root certificate's CRL distribution point. */
const INTEL_PCS_HOST = "api.trustedservices.intel.com";
export const INTEL_ROOT_CA_CRL_URL =
  "https://certificates.trustedservices.intel.com/IntelSGXRootCA.der";

export interface PccsOptions {
  /** e.g. "https://api.trustedservices.intel.com" or "https://pccs.example:8081". */
  baseUrl: string;
  /**
   * Where the root CA CRL is served; default: Intel's distribution point for Intel PCS, else
   * the PCCS's /sgx/certification/v4/rootcacrl.
   */
  rootCaCrlUrl?: string;
  fetch?: typeof globalThis.fetch;
  timeoutMs?: number;
}

/** The text of the JSON object value of `key` in `body`, exactly as it appears there. */
export function extractJsonObject(body: string, key: string): string {
  const at = body.indexOf(`"${key}"`);
  const start = at < 0 ? -1 : body.indexOf("{", at);
  if (start < 0) {
    throw new Error(`PCCS response has no "${key}" object`);
  }
  let depth = 0;
  let inString = false;
  for (let i = start; i < body.length; i++) {
    const c = body[i];
    if (inString) {
      if (c === "\\") {
        i++;
      } else if (c === '"') {
        inString = false;
      }
    } else if (c === '"') {
      inString = true;
    } else if (c === "{") {
      depth++;
    } else if (c === "}") {
      depth--;
      if (depth === 0) {
        return body.slice(start, i + 1);
      }
    }
  }
  throw new Error(`PCCS response: "${key}" object is not closed`);
}

function header(response: Response, names: string[], url: string): string {
  for (const name of names) {
    const value = response.headers.get(name);
    if (value !== null) {
      return decodeURIComponent(value);
    }
  }
  throw new Error(`${url}: response lacks header ${names.join(" / ")}`);
}

/** A CRL body: DER, PEM or hex text (PCCS versions differ). */
function crlFromBody(bytes: Uint8Array): Uint8Array {
  const text = new TextDecoder().decode(bytes).trim();
  if (/^([0-9a-fA-F]{2})+$/.test(text)) {
    return fromHex(text, "CRL");
  }
  const pem = /-----BEGIN X509 CRL-----([\s\S]*?)-----END X509 CRL-----/.exec(text);
  if (pem !== null) {
    return new Uint8Array(Buffer.from((pem[1] ?? "").replace(/\s+/g, ""), "base64"));
  }
  return bytes;
}

export class PccsClient {
  private readonly options: PccsOptions;

  constructor(options: PccsOptions) {
    this.options = options;
  }

  private async get(path: string): Promise<{ response: Response; body: Uint8Array; url: string }> {
    const url = path.startsWith("http")
      ? path
      : `${this.options.baseUrl.replace(/\/$/, "")}${path}`;
    const response = await (this.options.fetch ?? globalThis.fetch)(url, {
      signal: AbortSignal.timeout(this.options.timeoutMs ?? 15_000),
    });
    if (!response.ok) {
      throw new Error(`${url}: HTTP ${response.status}`);
    }
    return { response, body: new Uint8Array(await response.arrayBuffer()), url };
  }

  private rootCaCrlUrl(): string {
    if (this.options.rootCaCrlUrl !== undefined) {
      return this.options.rootCaCrlUrl;
    }
    return new URL(this.options.baseUrl).host === INTEL_PCS_HOST
      ? INTEL_ROOT_CA_CRL_URL
      : "/sgx/certification/v4/rootcacrl";
  }

  async collateral(fmspc: string, ca: "platform" | "processor"): Promise<Collateral> {
    const [tcb, qe, pckCrl, rootCrl] = await Promise.all([
      this.get(`/tdx/certification/v4/tcb?fmspc=${fmspc}`),
      this.get("/tdx/certification/v4/qe/identity"),
      this.get(`/sgx/certification/v4/pckcrl?ca=${ca}&encoding=der`),
      this.get(this.rootCaCrlUrl()),
    ]);
    const tcbText = new TextDecoder().decode(tcb.body);
    const qeText = new TextDecoder().decode(qe.body);
    const signature = (text: string, url: string): Uint8Array => {
      const parsed = JSON.parse(text) as { signature?: unknown };
      if (typeof parsed.signature !== "string") {
        throw new Error(`${url}: response has no signature`);
      }
      return fromHex(parsed.signature, `${url} signature`, 64);
    };
    return {
      tcbInfo: extractJsonObject(tcbText, "tcbInfo"),
      tcbInfoSignature: signature(tcbText, tcb.url),
      tcbInfoIssuerChain: header(
        tcb.response,
        ["TCB-Info-Issuer-Chain", "SGX-TCB-Info-Issuer-Chain"],
        tcb.url,
      ),
      qeIdentity: extractJsonObject(qeText, "enclaveIdentity"),
      qeIdentitySignature: signature(qeText, qe.url),
      qeIdentityIssuerChain: header(qe.response, ["SGX-Enclave-Identity-Issuer-Chain"], qe.url),
      pckCrl: crlFromBody(pckCrl.body),
      pckCrlIssuerChain: header(pckCrl.response, ["SGX-PCK-CRL-Issuer-Chain"], pckCrl.url),
      rootCaCrl: crlFromBody(rootCrl.body),
    };
  }
}
