/** Which collateral a quote needs: its FMSPC and PCK CA, read from the PCK certificate in it. */
import { fail } from "../errors.ts";
import { parsePemChain } from "./certs.ts";
import { readPckTcb } from "./pck-extension.ts";
import { parseTdxQuote } from "./quote.ts";
import type { X509Certificate } from "./x509.ts";

export interface QuotePlatform {
  fmspc: string;
  ca: "platform" | "processor";
}

export function quotePlatform(quoteBytes: Uint8Array): QuotePlatform {
  const quote = parseTdxQuote(quoteBytes);
  const leaf = parsePemChain(quote.pckChainPem, "PCK certificate chain")[0] as X509Certificate;
  const issuer = /CN=([^,]+)/.exec(leaf.issuer)?.[1] ?? "";
  let ca: QuotePlatform["ca"];
  if (issuer === "Intel SGX PCK Platform CA") {
    ca = "platform";
  } else if (issuer === "Intel SGX PCK Processor CA") {
    ca = "processor";
  } else {
    return fail("bad_pck_certificate", `PCK certificate issued by unknown CA "${issuer}"`);
  }
  return { fmspc: readPckTcb(leaf).fmspc, ca };
}
