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
export { type AgentJobStatus, ProviderEndpoint } from "./endpoint.ts";
export { ClientError, type ClientErrorCode } from "./errors.ts";
export { type SelectedMachine, type SelectionOptions, selectMachine } from "./machines.ts";
export { GpuMarket } from "./market.ts";
export type {
  AccountOption,
  AttestationOptions,
  AttestationReport,
  InferRequest,
  InferResult,
  MarketOptions,
  NetworkOption,
  Payment,
  ProgressStep,
  ProgressStepName,
  TxHashes,
} from "./types.ts";
