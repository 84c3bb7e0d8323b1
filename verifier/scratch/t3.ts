import { readFileSync } from "node:fs";
import { X509Certificate } from "../src/tdx/x509.ts";
import { readPckTcb } from "../src/tdx/pck-extension.ts";
import { parseTdxQuote } from "../src/tdx/quote.ts";
const q = parseTdxQuote(new Uint8Array(readFileSync("/work/shared/fixtures/tdx/tdx_quote.bin")));
const certs = q.pckChainPem.split(/(?=-----BEGIN CERTIFICATE-----)/).map((p) => new X509Certificate(p.trim()));
console.log(readPckTcb(certs[0]!));
