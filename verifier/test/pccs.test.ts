import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { collateralToJson } from "../src/tdx/collateral.ts";
import { extractJsonObject, PccsClient } from "../src/tdx/pccs.ts";
import { verifyTdxQuote } from "../src/tdx/verify.ts";
import { collateral, NOW, quote, rootCa } from "./fixtures.ts";

// A PCCS stand-in serving the fixture's collateral the way PCS v4 does.
let server: Server;
let baseUrl: string;
const requests: string[] = [];

beforeAll(async () => {
  const c = collateralToJson(collateral());
  server = createServer((req, res) => {
    requests.push(req.url ?? "");
    const url = new URL(req.url ?? "/", "http://x");
    if (url.pathname === "/tdx/certification/v4/tcb") {
      res.setHeader("TCB-Info-Issuer-Chain", encodeURIComponent(c.tcb_info_issuer_chain ?? ""));
      res.end(`{"tcbInfo":${c.tcb_info},"signature":"${c.tcb_info_signature}"}`);
    } else if (url.pathname === "/tdx/certification/v4/qe/identity") {
      res.setHeader(
        "SGX-Enclave-Identity-Issuer-Chain",
        encodeURIComponent(c.qe_identity_issuer_chain ?? ""),
      );
      res.end(`{"enclaveIdentity":${c.qe_identity},"signature":"${c.qe_identity_signature}"}`);
    } else if (url.pathname === "/sgx/certification/v4/pckcrl") {
      res.setHeader("SGX-PCK-CRL-Issuer-Chain", encodeURIComponent(c.pck_crl_issuer_chain ?? ""));
      res.end(Buffer.from(c.pck_crl ?? "", "hex"));
    } else if (url.pathname === "/sgx/certification/v4/rootcacrl") {
      res.end(c.root_ca_crl);
    } else {
      res.statusCode = 404;
      res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => {
  server.close();
});

describe("PCCS client", () => {
  test("fetches collateral that verifies the fixture quote", async () => {
    const fetched = await new PccsClient({ baseUrl }).collateral("b0c06f000000", "platform");
    expect(fetched.tcbInfo).toBe(collateral().tcbInfo);
    expect(fetched.qeIdentity).toBe(collateral().qeIdentity);
    const result = await verifyTdxQuote(quote(), fetched, { rootCa: rootCa(), now: NOW });
    expect(result.status).toBe("UpToDate");
    expect(requests).toContain("/tdx/certification/v4/tcb?fmspc=b0c06f000000");
    expect(requests).toContain("/sgx/certification/v4/pckcrl?ca=platform&encoding=der");
  });

  test("an HTTP error is a plain error naming the URL", async () => {
    const client = new PccsClient({ baseUrl: `${baseUrl}/missing` });
    await expect(client.collateral("b0c06f000000", "platform")).rejects.toThrow(/HTTP 404/);
  });

  test("cuts the signed object verbatim, strings with braces included", () => {
    const body = '{"tcbInfo":{"a":"}{\\"","b":{"c":1}} ,"signature":"00"}';
    expect(extractJsonObject(body, "tcbInfo")).toBe('{"a":"}{\\"","b":{"c":1}}');
  });
});
