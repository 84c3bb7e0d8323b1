/** @gpu-market/client: confidential inference on the GPU market, for dApps and agents. */
export { checkAttestation, type EvidenceOnChain } from "./attestation.ts";
export {
  type CallOptions,
  type CallOutcome,
  type MarketChain,
  type MarketEvent,
  NearChain,
  RPC_URLS,
} from "./chain.ts";
export { checkDelivery, type DeliveryVerdict, type ExpectedDelivery } from "./delivery.ts";
export { type AgentJobStatus, ProviderEndpoint, type SessionAgentView } from "./endpoint.ts";
export { ClientError, type ClientErrorCode } from "./errors.ts";
export { type SelectedMachine, type SelectionOptions, selectMachine } from "./machines.ts";
export { GpuMarket } from "./market.ts";
export {
  MarketSession,
  type SessionChatRequest,
  type SessionChatResult,
  type SessionCloseResult,
  type SessionStatusReport,
} from "./session.ts";
export { defaultStateDir, type SessionState } from "./session-store.ts";
export type {
  AccountOption,
  AttestationOptions,
  AttestationReport,
  InferRequest,
  InferResult,
  MarketOptions,
  NetworkOption,
  OpenSessionRequest,
  Payment,
  ProgressStep,
  ProgressStepName,
  SessionInferResult,
  TxHashes,
} from "./types.ts";
