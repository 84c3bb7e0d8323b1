/** @gpu-market/protocol: the confidential inference protocol (PROTOCOL.md) for clients and agents. */
export type {
  FailureCode,
  FailureNotice,
  InferenceReceipt,
  Keyset,
  ModelEntry,
  SessionReceipt,
  SessionVoucher,
} from "@gpu-market/common/src/inference-messages.ts";
export { FAILURE_CODES } from "@gpu-market/common/src/inference-messages.ts";
export { type JobBinding, jobMetadata, requestInfo } from "./binding.ts";
export { sha256Hex, toHex } from "./bytes.ts";
export { type ChatMessage, type ChatRequest, type ChatRole, parseChatRequest } from "./chat.ts";
export { ProtocolError, type ProtocolErrorCode } from "./errors.ts";
export {
  encryptionPublicKey,
  generateMachineSecrets,
  type MachineSecrets,
  parseEncryptionKey,
  parseSigningKey,
  signingPublicKey,
} from "./keys.ts";
export { gpuNonceHex, keysetSha256, reportDataHex } from "./keyset.ts";
export {
  MAX_ENVELOPE_BYTES,
  type OpenedRequest,
  openRequest,
  parseEnvelope,
  type SealedRequest,
  sealRequest,
} from "./request.ts";
export {
  type FramePlaintext,
  type OpenedResponse,
  openResponse,
  ResponseReader,
  ResponseSealer,
} from "./response.ts";
export {
  chargedAfter,
  generateSessionKey,
  openSessionRequest,
  parseSessionSecret,
  parseSignedVoucher,
  SESSION_REQUEST_VERSION,
  type SessionBinding,
  type SignedVoucher,
  sealSessionRequest,
  sessionMetadata,
  sessionPublicKey,
  sessionQuote,
  sessionRequestInfo,
  signSessionReceipt,
  signVoucher,
  type VoucherRefusal,
  type VoucherState,
  verifySessionReceipt,
  verifyVoucher,
  voucherRefusal,
} from "./session.ts";
export { signFailure, signReceipt, verifyFailure, verifyReceipt } from "./signatures.ts";
