/** A PCCS stand-in for tests: serves one collateral the way Intel PCS API v4 does, or fails. */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { type Collateral, collateralToJson } from "../src/tdx/collateral.ts";

export interface PccsStandIn {
  url: string;
  /** Request paths (with query) in order. */
  requests: string[];
  /** Collateral served from now on; null answers every request with HTTP 503. */
  serve(collateral: Collateral | null): void;
  close(): Promise<void>;
}

export async function startPccs(initial: Collateral | null): Promise<PccsStandIn> {
  let current = initial === null ? null : collateralToJson(initial);
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    requests.push(req.url ?? "");
    const url = new URL(req.url ?? "/", "http://x");
    const c = current;
    if (c === null) {
      res.statusCode = 503;
      res.end();
    } else if (url.pathname === "/tdx/certification/v4/tcb") {
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
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    serve(collateral) {
      current = collateral === null ? null : collateralToJson(collateral);
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
