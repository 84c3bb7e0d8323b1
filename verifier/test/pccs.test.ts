import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { extractJsonObject, INTEL_ROOT_CA_CRL_URL, PccsClient } from "../src/tdx/pccs.ts";
import { verifyTdxQuote } from "../src/tdx/verify.ts";
import { collateral, NOW, quote, rootCa } from "./fixtures.ts";
import { type PccsStandIn, startPccs } from "./pccs-server.ts";

let pccs: PccsStandIn;

beforeAll(async () => {
  pccs = await startPccs(collateral());
});

afterAll(async () => {
  await pccs.close();
});

describe("PCCS client", () => {
  test("fetches collateral that verifies the fixture quote", async () => {
    const fetched = await new PccsClient({ baseUrl: pccs.url }).collateral(
      "b0c06f000000",
      "platform",
    );
    expect(fetched.tcbInfo).toBe(collateral().tcbInfo);
    expect(fetched.qeIdentity).toBe(collateral().qeIdentity);
    const result = await verifyTdxQuote(quote(), fetched, { rootCa: rootCa(), now: NOW });
    expect(result.status).toBe("UpToDate");
    expect(pccs.requests).toContain("/tdx/certification/v4/tcb?fmspc=b0c06f000000");
    expect(pccs.requests).toContain("/sgx/certification/v4/pckcrl?ca=platform&encoding=der");
  });

  test("from Intel PCS, the root CA CRL comes from Intel's distribution point", async () => {
    const asked: string[] = [];
    // Intel PCS's paths answered by the stand-in; the root CA CRL's distribution point too.
    const fetch: typeof globalThis.fetch = (input, init) => {
      const url = String(input);
      asked.push(url);
      const local =
        url === INTEL_ROOT_CA_CRL_URL
          ? "/sgx/certification/v4/rootcacrl"
          : new URL(url).pathname + new URL(url).search;
      return globalThis.fetch(`${pccs.url}${local}`, init);
    };
    const client = new PccsClient({ baseUrl: "https://api.trustedservices.intel.com", fetch });
    const fetched = await client.collateral("b0c06f000000", "platform");
    expect(fetched.rootCaCrl).toEqual(collateral().rootCaCrl);
    expect(asked.sort()).toEqual([
      "https://api.trustedservices.intel.com/sgx/certification/v4/pckcrl?ca=platform&encoding=der",
      "https://api.trustedservices.intel.com/tdx/certification/v4/qe/identity",
      "https://api.trustedservices.intel.com/tdx/certification/v4/tcb?fmspc=b0c06f000000",
      INTEL_ROOT_CA_CRL_URL,
    ]);
  });

  test("an HTTP error is a plain error naming the URL", async () => {
    const client = new PccsClient({ baseUrl: `${pccs.url}/missing` });
    await expect(client.collateral("b0c06f000000", "platform")).rejects.toThrow(/HTTP 404/);
  });

  test("cuts the signed object verbatim, strings with braces included", () => {
    const body = '{"tcbInfo":{"a":"}{\\"","b":{"c":1}} ,"signature":"00"}';
    expect(extractJsonObject(body, "tcbInfo")).toBe('{"a":"}{\\"","b":{"c":1}}');
  });
});
