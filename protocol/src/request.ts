/**
 * The request envelope: what a client uploads to the machine's endpoint and what the job's
 * input_hash commits to (sha256 of its exact bytes). Canonical JSON
 *   {"ciphertext":<base64>,"enc":<base64>,"request_id":<64 hex>,"version":"gpumarket/v1/request"}
 * HPKE base mode seals the chat request to the machine's attested X25519 key; both sides derive
 * the response key from the same context (response.ts), so only the client can read the answer.
 */
import { randomBytes } from "node:crypto";
import { canonicalBytes } from "@gpu-market/common/src/canonical-json.ts";
import { type JobBinding, jobMetadata, requestInfo } from "./binding.ts";
import { fromBase64, fromUtf8, sha256Hex, toBase64, toHex, utf8 } from "./bytes.ts";
import { type ChatRequest, parseChatRequest } from "./chat.ts";
import { fail } from "./errors.ts";
import { parseEncryptionKey } from "./keys.ts";
import { RESPONSE_KEY_BYTES, RESPONSE_KEY_LABEL } from "./response.ts";
import { suite } from "./suite.ts";

export const REQUEST_VERSION = "gpumarket/v1/request";
/** Requests larger than this are refused before any cryptography (8 MiB). */
export const MAX_ENVELOPE_BYTES = 8 * 1024 * 1024;
const HEX32 = /^[0-9a-f]{64}$/;

export interface SealedRequest {
  envelope: Uint8Array;
  /** sha256 of the envelope: the job's input_hash. */
  inputHash: string;
  requestId: string;
  /** The key the answer is encrypted under; the client keeps it until the answer arrives. */
  responseKey: Uint8Array;
  /** UTF-8 bytes of the request JSON that was sealed (what a session's quote counts). */
  requestBytes: number;
}

export interface OpenedRequest {
  request: ChatRequest;
  requestId: string;
  inputHash: string;
  responseKey: Uint8Array;
  /** UTF-8 bytes of the decrypted request JSON. */
  requestBytes: number;
}

export async function sealRequest(
  binding: JobBinding,
  encryptionKey: string,
  request: ChatRequest,
): Promise<SealedRequest> {
  return sealWith(
    REQUEST_VERSION,
    (requestId) => ({
      info: requestInfo(binding, requestId),
      aad: jobMetadata(binding, requestId),
    }),
    encryptionKey,
    request,
  );
}

/** HPKE info and associated data of one request, given its fresh request id. */
export type RequestContext = (requestId: string) => { info: Uint8Array; aad: Uint8Array };

/** Seals `request` into an envelope of `version`, bound by `context` (jobs and sessions). */
export async function sealWith(
  version: string,
  context: RequestContext,
  encryptionKey: string,
  request: ChatRequest,
): Promise<SealedRequest> {
  const plaintext = utf8.encode(JSON.stringify(parseChatRequest(request)));
  const requestId = toHex(randomBytes(32));
  const { info, aad } = context(requestId);
  const recipientPublicKey = await suite.kem.deserializePublicKey(
    parseEncryptionKey(encryptionKey, "encryption_key"),
  );
  const sender = await suite.createSenderContext({ recipientPublicKey, info });
  const ciphertext = new Uint8Array(await sender.seal(plaintext, aad));
  const responseKey = new Uint8Array(
    await sender.export(utf8.encode(RESPONSE_KEY_LABEL), RESPONSE_KEY_BYTES),
  );
  const envelope = canonicalBytes({
    version,
    request_id: requestId,
    enc: toBase64(new Uint8Array(sender.enc)),
    ciphertext: toBase64(ciphertext),
  });
  if (envelope.length > MAX_ENVELOPE_BYTES) {
    fail(
      "bad_input",
      `request: ${envelope.length} bytes once encrypted, at most ${MAX_ENVELOPE_BYTES}`,
    );
  }
  return {
    envelope,
    inputHash: sha256Hex(envelope),
    requestId,
    responseKey,
    requestBytes: plaintext.length,
  };
}

interface EnvelopeFields {
  requestId: string;
  enc: Uint8Array;
  ciphertext: Uint8Array;
}

/** Parses an envelope of `version`, refusing any spelling but the canonical one. */
export function parseEnvelope(bytes: Uint8Array, version = REQUEST_VERSION): EnvelopeFields {
  if (bytes.length > MAX_ENVELOPE_BYTES) {
    fail("bad_envelope", `envelope: ${bytes.length} bytes, at most ${MAX_ENVELOPE_BYTES}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(fromUtf8.decode(bytes));
  } catch {
    return fail("bad_envelope", "envelope: not UTF-8 JSON");
  }
  const fields = value as Record<string, unknown>;
  if (
    typeof value !== "object" ||
    value === null ||
    fields.version !== version ||
    typeof fields.request_id !== "string" ||
    !HEX32.test(fields.request_id) ||
    typeof fields.enc !== "string" ||
    typeof fields.ciphertext !== "string" ||
    Object.keys(fields).length !== 4
  ) {
    fail("bad_envelope", `envelope: expected {version: "${version}", request_id, enc, ciphertext}`);
  }
  const canonical = canonicalBytes({
    version,
    request_id: fields.request_id,
    enc: fields.enc,
    ciphertext: fields.ciphertext,
  });
  if (Buffer.compare(Buffer.from(canonical), Buffer.from(bytes)) !== 0) {
    fail("bad_envelope", "envelope: not in canonical form");
  }
  return {
    requestId: fields.request_id,
    enc: fromBase64(fields.enc, "envelope.enc"),
    ciphertext: fromBase64(fields.ciphertext, "envelope.ciphertext"),
  };
}

/** Inside the TEE: decrypts a request sealed for `binding` with the machine's X25519 secret. */
export async function openRequest(
  binding: JobBinding,
  envelope: Uint8Array,
  encryptionSecret: Uint8Array,
): Promise<OpenedRequest> {
  return openWith(
    REQUEST_VERSION,
    (requestId) => ({
      info: requestInfo(binding, requestId),
      aad: jobMetadata(binding, requestId),
    }),
    envelope,
    encryptionSecret,
    "job",
  );
}

/** Opens an envelope of `version` bound by `context`; `what` names the binding in the error. */
export async function openWith(
  version: string,
  context: RequestContext,
  envelope: Uint8Array,
  encryptionSecret: Uint8Array,
  what: string,
): Promise<OpenedRequest> {
  const fields = parseEnvelope(envelope, version);
  const { info, aad } = context(fields.requestId);
  let plaintext: Uint8Array;
  let responseKey: Uint8Array;
  try {
    const recipientKey = await suite.kem.deserializePrivateKey(encryptionSecret);
    const recipient = await suite.createRecipientContext({
      recipientKey,
      enc: fields.enc,
      info,
    });
    plaintext = new Uint8Array(await recipient.open(fields.ciphertext, aad));
    responseKey = new Uint8Array(
      await recipient.export(utf8.encode(RESPONSE_KEY_LABEL), RESPONSE_KEY_BYTES),
    );
  } catch {
    // Which check failed (key, info, aad, tag) would tell an attacker what to change: say nothing more.
    return fail("decrypt_failed", `request: does not decrypt for this ${what} and machine key`);
  }
  let value: unknown;
  try {
    value = JSON.parse(fromUtf8.decode(plaintext));
  } catch {
    return fail("bad_input", "request: decrypted bytes are not UTF-8 JSON");
  }
  return {
    request: parseChatRequest(value),
    requestId: fields.requestId,
    inputHash: sha256Hex(envelope),
    responseKey,
    requestBytes: plaintext.length,
  };
}
