/** The client's public options and results. Amounts are u128 decimal strings or BigInt. */
import type { ChatMessage, InferenceReceipt, SessionReceipt } from "@gpu-market/protocol";
import type { Collateral } from "@phala/dcap-qvl";
import type { KeyPair, KeyPairString, Signer } from "near-api-js";
import type { MarketChain } from "./chain.ts";

export type NetworkOption = "testnet" | "mainnet" | "localnet" | { rpcUrl: string };

export interface AccountOption {
  accountId: string;
  /** A near-api-js Signer (KeyPairSigner, ...), a KeyPair or "ed25519:<base58>" secret key. */
  signer: Signer | KeyPair | KeyPairString;
}

/** How the client checks a machine's TDX quote itself (`verifyAttestation`). */
export interface AttestationOptions {
  /** A PCCS (PCS v4 API) to fetch collateral from; default Intel's PCS. */
  pccsUrl?: string;
  /** Collateral to use instead of fetching it (dcap-qvl's JSON layout). */
  collateral?: Collateral;
  /** DER of the Intel SGX root CA to trust; default Intel's production root. */
  rootCaDer?: Uint8Array;
  /** The TCB statuses accepted; default the registry's allowed_tcb_statuses, else ["UpToDate"]. */
  allowedTcbStatuses?: string[];
  /** The time certificates and collateral are checked at; default now. */
  now?: () => Date;
}

export interface MarketOptions {
  /** The registry and escrow contract accounts. */
  registry: string;
  escrow: string;
  /** Where to send views and transactions, and who signs them (near-api-js)... */
  network?: NetworkOption;
  account?: AccountOption;
  /** ...or your own chain access instead of both, e.g. one that signs through a wallet. */
  chain?: MarketChain;
  /** The indexer's query API (e.g. http://127.0.0.1:3040): finds machines faster; the chain still decides. */
  indexerUrl?: string;
  attestation?: AttestationOptions;
  /** How often the job is polled while waiting (default 1000 ms). */
  pollIntervalMs?: number;
  /** The fetch used for provider endpoints and the indexer (default globalThis.fetch). */
  fetch?: typeof fetch;
  /** Where session keys and states are kept (mode 0600), default ~/.gpu-market/client. */
  stateDir?: string;
}

/** How a job is paid. Default: the NEAR attached to create_job. */
export type Payment =
  | { from: "attached" }
  /** The caller's prepaid escrow balance, in NEAR or an allowed token. */
  | { from: "balance"; asset?: string }
  /** An allowed NEP-141 token, sent with ft_transfer_call (maxAmount in its base units). */
  | { from: "token"; token: string };

export interface InferRequest {
  /**
   * "session" (default): the request is paid by a voucher in a session with the machine, reusing
   * this client's open session with it or opening one (no transaction per request). "job": one
   * escrowed job (a transaction to pay, one to confirm), for large one-off jobs.
   */
  mode?: "session" | "job";
  /** The model's name as machines list it, or its weights sha256 (64 hex). */
  model: string;
  messages: ChatMessage[];
  /**
   * The most this request may cost, in yoctoNEAR (or token base units). In a session: its quote
   * (price x (request JSON bytes + maxTokens)) must fit under it.
   */
  maxAmount: string | bigint;
  /** A session opened for this request escrows this budget (default 10 x maxAmount). */
  sessionBudget?: string | bigint;
  /** A session opened for this request lasts this long (default 3600 s). */
  sessionSeconds?: number;
  maxTokens: number;
  temperature?: number;
  seed?: number;
  /** A machine id; default the cheapest eligible machine serving the model. */
  machine?: string;
  /** Refuse machines priced above this per unit (the escrow checks it again at creation). */
  maxPricePerUnit?: string | bigint;
  /** Deadlines the provider must meet (default 120 s to accept, 600 s to deliver). */
  acceptWithinSeconds?: number;
  deliverWithinSeconds?: number;
  payment?: Payment;
  /** Check the machine's TDX quote and its REPORTDATA binding here, before paying. */
  verifyAttestation?: boolean;
  /** With verifyAttestation: accept none-dev machines, which have no quote (dev networks only). */
  allowDevMachines?: boolean;
  /**
   * Confirm a delivery that checks out (default true). With false the verified job is left
   * delivered: it settles after the dispute window without a confirm transaction, and the caller
   * may still dispute it until then.
   */
  confirm?: boolean;
  onProgress?: (step: ProgressStep) => void;
  /** Streams the answer's text as the machine produces it (the final answer is still checked). */
  onToken?: (text: string) => void;
}

export type ProgressStepName =
  | "selecting_machine"
  | "machine_selected"
  | "verifying_attestation"
  | "attestation_verified"
  | "encrypting"
  | "storage_deposit"
  | "creating_job"
  | "job_created"
  | "uploading_request"
  | "request_uploaded"
  | "job_status"
  | "stream_interrupted"
  | "fetching_response"
  | "verifying_delivery"
  | "confirming"
  | "disputing"
  | "reclaiming"
  | "opening_session"
  | "session_opened"
  | "session_reused"
  | "session_request";

export interface ProgressStep {
  step: ProgressStepName;
  /** A readable line, e.g. for stderr. */
  message: string;
  jobId?: string;
  sessionId?: string;
  machineId?: string;
  txHash?: string;
  status?: string;
}

/** What the client checked of the machine's evidence with verifyAttestation. */
export interface AttestationReport {
  machineId: string;
  teeType: string;
  evidenceSha256: string;
  /** "dev" for a none-dev machine accepted with allowDevMachines (nothing proven). */
  tcbStatus: string;
  advisoryIds: string[];
  reportData: string;
  mrtd: string | null;
  rtmr: string[];
}

export interface TxHashes {
  storageDeposit?: string;
  createJob: string;
  /** Absent when the call was made with confirm: false. */
  confirmJob?: string;
}

export interface InferResult {
  text: string;
  finishReason: string | null;
  jobId: string;
  machineId: string;
  provider: string;
  /** The model's name and weights as the signed receipt names them. */
  model: string;
  weightsSha256: string;
  usage: { promptTokens: number; completionTokens: number };
  /** What the provider was paid (fee included), in the job's asset's base units. */
  amountDue: string;
  /** The rest of maxAmount, credited to the payer's escrow balance (market.withdraw()). */
  refunded: string;
  asset: string;
  txHashes: TxHashes;
  receipt: InferenceReceipt;
  signature: string;
  attestation: AttestationReport | null;
}

/** What market.openSession() takes. */
export interface OpenSessionRequest {
  /** The model the session is for (to pick the machine): its name or weights sha256. */
  model: string;
  /** A machine id; default the cheapest eligible machine serving the model. */
  machine?: string;
  /** The budget escrowed for the session, in yoctoNEAR (or token base units). */
  budget: string | bigint;
  maxPricePerUnit?: string | bigint;
  /** How long the session lasts (default 3600 s; the escrow bounds it, 60 s to 7 days by default). */
  expiresInSeconds?: number;
  payment?: Payment;
  verifyAttestation?: boolean;
  allowDevMachines?: boolean;
  onProgress?: (step: ProgressStep) => void;
}

/** What infer() returns for a request served in a session. */
export interface SessionInferResult {
  mode: "session";
  text: string;
  finishReason: string | null;
  sessionId: string;
  machineId: string;
  provider: string;
  model: string;
  weightsSha256: string;
  usage: { promptTokens: number; completionTokens: number };
  /** This request's cost, and the session's totals after it (base units of the asset). */
  cost: string;
  charged: string;
  budget: string;
  budgetLeft: string;
  asset: string;
  /** True when infer() opened the session for this request. */
  opened: boolean;
  /** Transactions this call made: none when an open session was reused. */
  txHashes: { storageDeposit?: string; openSession?: string };
  receipt: SessionReceipt;
  signature: string;
  attestation: AttestationReport | null;
}
