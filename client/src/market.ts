/**
 * GpuMarket: confidential inference in one call. infer() picks an eligible machine serving the
 * model, optionally checks its TDX attestation itself, then by default runs the request in a
 * session with that machine (session.ts: reusing this client's open session with it, or opening
 * one; a voucher instead of a transaction per request). With mode "job" it encrypts the chat
 * request to the machine's attested key bound to one job, pays the job on the escrow, uploads the
 * request to the provider, waits (streaming the answer if asked), checks the signed delivery
 * against the chain and the response file, decrypts it, and confirms, or disputes with the reason
 * when anything is off.
 */
import type { Job } from "@gpu-market/common/src/escrow-types.ts";
import type {
  Attestation,
  Evidence,
  RegistryParams,
} from "@gpu-market/common/src/registry-types.ts";
import {
  generateSessionKey,
  ProtocolError,
  type SealedRequest,
  sealRequest,
  toHex,
} from "@gpu-market/protocol";
import { checkAttestation } from "./attestation.ts";
import { type MarketChain, NearChain } from "./chain.ts";
import { checkDelivery } from "./delivery.ts";
import { ProviderEndpoint } from "./endpoint.ts";
import { ClientError, clientError, messageOf } from "./errors.ts";
import { balanceOf, createJob, ensureJobStorage, getJob, jobAction, withdraw } from "./escrow.ts";
import { getSession, openSessionTx } from "./escrow-sessions.ts";
import { type InferInputs, parseAmount, parseInferRequest, parsePayment } from "./inputs.ts";
import { type SelectedMachine, selectMachine } from "./machines.ts";
import { MarketSession } from "./session.ts";
import {
  defaultStateDir,
  SESSION_STATE_VERSION,
  SessionFiles,
  type SessionState,
} from "./session-store.ts";
import type {
  AttestationOptions,
  AttestationReport,
  InferRequest,
  InferResult,
  MarketOptions,
  OpenSessionRequest,
  Payment,
  ProgressStep,
  SessionInferResult,
} from "./types.ts";
import { type Report, streamTokens, waitForDelivery } from "./watch.ts";

/** How long the response file is asked for after delivery before the job is disputed. */
const RESPONSE_RETRY_MS = 60_000;
/** The escrow's limit on a dispute reason. */
const REASON_CHARS = 512;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface EvidenceView {
  evidence: Evidence;
  attestation: Attestation | null;
}

/** The caller's progress callback, never allowed to break the money path. */
function progress(onProgress: ((step: ProgressStep) => void) | undefined) {
  return (step: ProgressStep) => {
    try {
      onProgress?.(step);
    } catch {
      // a failing progress callback must not break the job's money path
    }
  };
}

function chainOf(options: MarketOptions): MarketChain {
  if (options.chain !== undefined) return options.chain;
  if (options.network === undefined || options.account === undefined) {
    return clientError("bad_input", "give network and account (or your own chain)");
  }
  return new NearChain(options.network, options.account);
}

export class GpuMarket {
  readonly registry: string;
  readonly escrow: string;
  readonly accountId: string;
  private readonly chain: MarketChain;
  private readonly options: MarketOptions;

  constructor(options: MarketOptions) {
    for (const field of ["registry", "escrow"] as const) {
      if (typeof options?.[field] !== "string" || options[field] === "") {
        clientError("bad_input", `${field}: expected the ${field} contract's account id`);
      }
    }
    this.chain = chainOf(options);
    this.options = options;
    this.registry = options.registry;
    this.escrow = options.escrow;
    this.accountId = this.chain.accountId;
  }

  private get fetch(): typeof fetch {
    return this.options.fetch ?? globalThis.fetch;
  }

  /** The machine infer() would use for `model` (or `machine`), with its keyset checked. */
  async findMachine(options: {
    model: string;
    machine?: string;
    maxPricePerUnit?: string | bigint;
    teeOnly?: boolean;
  }): Promise<SelectedMachine> {
    return selectMachine(this.chain, this.registry, {
      model: options.model,
      machine: options.machine,
      maxPricePerUnit:
        options.maxPricePerUnit === undefined
          ? undefined
          : parseAmount(options.maxPricePerUnit, "maxPricePerUnit"),
      teeOnly: options.teeOnly,
      indexerUrl: this.options.indexerUrl,
      fetch: this.fetch,
    });
  }

  /** Checks the machine's attestation from its endpoint, as infer({verifyAttestation}) does. */
  async verifyMachine(
    machine: SelectedMachine,
    allowDevMachines = false,
    options: AttestationOptions = this.options.attestation ?? {},
  ): Promise<AttestationReport> {
    const endpoint = new ProviderEndpoint(machine.endpoint, { fetch: this.fetch });
    const [bytes, record, params] = await Promise.all([
      endpoint.attestation(machine.machineId),
      this.chain.view<EvidenceView | null>(this.registry, "evidence", {
        machine_id: machine.machineId,
      }),
      this.chain.view<RegistryParams & { allowed_tcb_statuses?: string[] }>(
        this.registry,
        "get_params",
        {},
      ),
    ]);
    if (record === null) {
      clientError("machine_ineligible", `machine ${machine.machineId} vanished from the registry`);
    }
    return checkAttestation(
      bytes,
      {
        machineId: machine.machineId,
        teeType: machine.teeType,
        latest: record.evidence,
        attestation: record.attestation,
        keysetSha256: machine.keysetSha256,
        allowedTcbStatuses: options.allowedTcbStatuses ??
          params.allowed_tcb_statuses ?? ["UpToDate"],
        allowDevMachines,
      },
      options,
    );
  }

  async job(jobId: string): Promise<Job> {
    return getJob(this.chain, this.escrow, jobId);
  }

  /** What the signing account has credited on the escrow (refunds, payouts), in base units. */
  async balance(asset = "NEAR"): Promise<bigint> {
    return balanceOf(this.chain, this.escrow, this.accountId, asset);
  }

  /** Withdraws credited refunds (all of them by default) to the signing account. */
  async withdraw(
    options: { asset?: string; amount?: string | bigint } = {},
  ): Promise<{ withdrawn: string; txHash: string }> {
    const amount = options.amount === undefined ? undefined : parseAmount(options.amount, "amount");
    return withdraw(this.chain, this.escrow, options.asset ?? "NEAR", amount);
  }

  /** This client's session files for this escrow. */
  private get files(): SessionFiles {
    return new SessionFiles(
      this.options.stateDir ?? defaultStateDir(),
      this.escrow,
      this.accountId,
    );
  }

  /** Opens a session with the machine serving `model` (or `machine`); its key stays here. */
  async openSession(request: OpenSessionRequest): Promise<MarketSession> {
    if (typeof request?.model !== "string" || request.model === "") {
      clientError("bad_input", "model: expected a model name or its weights sha256");
    }
    const budget = parseAmount(request.budget, "budget");
    if (budget === 0n) clientError("bad_input", "budget: must be greater than 0");
    const seconds = request.expiresInSeconds ?? 3600;
    if (!Number.isSafeInteger(seconds) || seconds < 1) {
      clientError(
        "bad_input",
        `expiresInSeconds: expected a whole number of seconds, got ${seconds}`,
      );
    }
    if (request.machine !== undefined && !/^\d{1,20}$/.test(String(request.machine))) {
      clientError("bad_input", `machine: "${String(request.machine)}" is not a machine id`);
    }
    const maxPrice =
      request.maxPricePerUnit === undefined
        ? undefined
        : parseAmount(request.maxPricePerUnit, "maxPricePerUnit");
    const emit = progress(request.onProgress);
    const machine = await this.choose(
      {
        model: request.model,
        machine: request.machine,
        maxPricePerUnit: maxPrice,
        verifyAttestation: request.verifyAttestation === true,
        allowDevMachines: request.allowDevMachines === true,
      },
      emit,
    );
    const opened = await this.openOn(
      machine.machine,
      budget,
      seconds,
      parsePayment(request.payment),
      maxPrice,
      emit,
    );
    return opened.session;
  }

  /** A session this client opened (its key is in the state dir). */
  session(sessionId: string): MarketSession {
    const state = this.files.load(sessionId);
    return new MarketSession(this.sessionContext(state), state);
  }

  /** The sessions this client holds keys for, newest last (secrets left out). */
  sessions(): Omit<SessionState, "client_secret">[] {
    return this.files.list().map(({ client_secret: _secret, ...rest }) => rest);
  }

  private sessionContext(state: SessionState) {
    return {
      chain: this.chain,
      escrow: this.escrow,
      files: this.files,
      endpoint: new ProviderEndpoint(state.endpoint, { fetch: this.fetch }),
    };
  }

  /**
   * open_session with a fresh session key, saved (0600) before the transaction is sent; the
   * session's snapshot must be the machine and keyset the client checked.
   */
  private async openOn(
    machine: SelectedMachine,
    budget: bigint,
    seconds: number,
    payment: Payment,
    maxPrice: bigint | undefined,
    emit: (step: ProgressStep) => void,
  ): Promise<{
    session: MarketSession;
    txHashes: { storageDeposit?: string; openSession: string };
  }> {
    const key = generateSessionKey();
    const files = this.files;
    let state: SessionState = {
      version: SESSION_STATE_VERSION,
      escrow: this.escrow,
      client: this.accountId,
      session_id: null,
      client_key: key.publicKey,
      client_secret: toHex(key.secret),
      machine_id: machine.machineId,
      provider: machine.provider,
      endpoint: machine.endpoint,
      keyset_sha256: machine.keysetSha256,
      encryption_key: machine.encryptionKey,
      machine_public_key: machine.signingKey,
      models: machine.models,
      asset:
        payment.from === "token"
          ? payment.token
          : ((payment.from === "balance" ? payment.asset : undefined) ?? "NEAR"),
      budget: budget.toString(),
      price_per_unit: machine.pricePerUnit,
      expires_at: null,
      charged: "0",
      nonce: "0",
      requests: 0,
      status: "opening",
      suspect: null,
      close: null,
      tx_hashes: {},
    };
    files.save(state);
    const storageTx = await ensureJobStorage(this.chain, this.escrow);
    if (storageTx !== null) {
      emit({
        step: "storage_deposit",
        txHash: storageTx,
        message: "added to the escrow storage balance for the session record",
      });
    }
    emit({
      step: "opening_session",
      machineId: machine.machineId,
      message: `opening a session with machine ${machine.machineId} (budget ${budget}, ${seconds} s)`,
    });
    let opened: Awaited<ReturnType<typeof openSessionTx>>;
    try {
      opened = await openSessionTx(
        this.chain,
        this.escrow,
        {
          machine_id: machine.machineId,
          client_key: key.publicKey,
          keyset_sha256: machine.keysetSha256,
          max_price_per_unit: (maxPrice ?? BigInt(machine.pricePerUnit)).toString(),
          expires_within_ns: (BigInt(seconds) * 1_000_000_000n).toString(),
        },
        budget,
        payment,
      );
    } catch (error) {
      // Refused: nothing is escrowed under this key. Otherwise keep it: the open may have landed.
      if (error instanceof ClientError && error.code === "job_rejected") files.dropPending(state);
      throw error;
    }
    const s = opened.session;
    const expected: [string, string, string][] = [
      ["client_key", s.client_key, key.publicKey],
      ["machine_id", s.machine_id, machine.machineId],
      ["keyset_sha256", s.keyset_sha256, machine.keysetSha256],
      ["encryption_key", s.encryption_key, machine.encryptionKey],
      ["machine_public_key", s.machine_public_key, machine.signingKey],
    ];
    for (const [field, got, want] of expected) {
      if (got !== want) {
        clientError(
          "keyset_mismatch",
          `session ${s.id}: the escrow's ${field} ${got} is not the ${want} checked here`,
          { sessionId: s.id, txHash: opened.txHash },
        );
      }
    }
    const txHashes = {
      ...(storageTx === null ? {} : { storageDeposit: storageTx }),
      openSession: opened.txHash,
    };
    state = {
      ...state,
      session_id: s.id,
      status: "open",
      asset: s.asset,
      budget: s.budget,
      price_per_unit: s.price_per_unit,
      expires_at: s.expires_at,
      tx_hashes: { open: opened.txHash, ...(storageTx === null ? {} : { storage: storageTx }) },
    };
    files.save(state);
    emit({
      step: "session_opened",
      sessionId: s.id,
      machineId: s.machine_id,
      txHash: opened.txHash,
      message: `session ${s.id} opened: budget ${s.budget} ${s.asset} at ${s.price_per_unit} per unit, until ${s.expires_at}`,
    });
    return { session: new MarketSession(this.sessionContext(state), state), txHashes };
  }

  /** The machine for a request or a session, with its attestation checked when asked. */
  private async choose(
    inputs: {
      model: string;
      machine: string | undefined;
      maxPricePerUnit: bigint | undefined;
      verifyAttestation: boolean;
      allowDevMachines: boolean;
    },
    emit: (step: ProgressStep) => void,
  ): Promise<{ machine: SelectedMachine; attestation: AttestationReport | null }> {
    emit({ step: "selecting_machine", message: `looking for a machine serving ${inputs.model}` });
    const machine = await selectMachine(this.chain, this.registry, {
      model: inputs.model,
      machine: inputs.machine,
      maxPricePerUnit: inputs.maxPricePerUnit,
      teeOnly: inputs.verifyAttestation && !inputs.allowDevMachines,
      indexerUrl: this.options.indexerUrl,
      fetch: this.fetch,
      onFallback: (reason) =>
        emit({ step: "selecting_machine", message: `${reason}; reading the registry` }),
    });
    emit({
      step: "machine_selected",
      machineId: machine.machineId,
      message: `machine ${machine.machineId} of ${machine.provider} (${machine.teeType}, ${machine.pricePerUnit} per unit) serves ${machine.model.name} (weights ${machine.model.weights_sha256})`,
    });
    let attestation: AttestationReport | null = null;
    if (inputs.verifyAttestation) {
      emit({
        step: "verifying_attestation",
        message: `checking machine ${machine.machineId}'s attestation`,
      });
      attestation = await this.verifyMachine(machine, inputs.allowDevMachines);
      emit({
        step: "attestation_verified",
        message:
          attestation.tcbStatus === "dev"
            ? `machine ${machine.machineId} is a dev machine (no TEE): its dev report binds the keyset, nothing more`
            : `TDX quote verified (${attestation.tcbStatus}); REPORTDATA binds keyset ${machine.keysetSha256}`,
      });
    }
    return { machine, attestation };
  }

  /**
   * One inference. By default in a session with the machine (reused or opened: see
   * InferRequest.mode); with `mode: "job"`, one escrowed job.
   */
  infer(request: InferRequest & { mode: "job" }): Promise<InferResult>;
  infer(request: InferRequest & { mode?: "session" }): Promise<SessionInferResult>;
  infer(request: InferRequest): Promise<InferResult | SessionInferResult>;
  async infer(request: InferRequest): Promise<InferResult | SessionInferResult> {
    const inputs = parseInferRequest(request);
    const emit = progress(request.onProgress);
    const { machine, attestation } = await this.choose(inputs, emit);
    if (inputs.mode === "session") {
      return this.inferInSession(inputs, machine, attestation, emit, request.onToken);
    }
    return this.run(inputs, machine, attestation, emit, request.onToken);
  }

  /** A request in this client's open session with the machine, or in one opened for it. */
  private async inferInSession(
    inputs: InferInputs,
    machine: SelectedMachine,
    attestation: AttestationReport | null,
    emit: (step: ProgressStep) => void,
    onToken: ((text: string) => void) | undefined,
  ): Promise<SessionInferResult> {
    const bytes = MarketSession.requestBytes({ model: machine.model.name, ...inputs.chat });
    const now = await this.chain.blockTimestampNs();
    let session: MarketSession | null = null;
    for (const state of this.files.list()) {
      if (
        state.session_id === null ||
        state.status !== "open" ||
        state.machine_id !== machine.machineId ||
        state.keyset_sha256 !== machine.keysetSha256 ||
        state.endpoint !== machine.endpoint
      ) {
        continue;
      }
      const candidate = new MarketSession(this.sessionContext(state), state);
      if (candidate.usable(candidate.quote(bytes, inputs.chat.max_tokens), now) !== null) continue;
      // The agent may have closed it (near its expiry): the chain says.
      const chain = await getSession(this.chain, this.escrow, candidate.id);
      if (chain.status !== "open") continue;
      session = candidate;
      break;
    }
    let txHashes: SessionInferResult["txHashes"] = {};
    const opened = session === null;
    if (session === null) {
      const result = await this.openOn(
        machine,
        inputs.sessionBudget,
        inputs.sessionSeconds,
        inputs.payment,
        inputs.maxPricePerUnit,
        emit,
      );
      session = result.session;
      txHashes = result.txHashes;
    } else {
      emit({
        step: "session_reused",
        sessionId: session.id,
        machineId: machine.machineId,
        message: `session ${session.id} with machine ${machine.machineId}: ${session.budgetLeft} left`,
      });
    }
    emit({
      step: "session_request",
      sessionId: session.id,
      message: `sending the encrypted request with a voucher (no transaction)`,
    });
    const result = await session.chat({
      messages: inputs.chat.messages,
      maxTokens: inputs.chat.max_tokens,
      temperature: inputs.chat.temperature,
      seed: inputs.chat.seed,
      model: machine.model.name,
      maxAmount: inputs.maxAmount,
      onToken,
    });
    return {
      mode: "session",
      text: result.text,
      finishReason: result.finishReason,
      sessionId: result.sessionId,
      machineId: result.machineId,
      provider: machine.provider,
      model: result.model,
      weightsSha256: result.weightsSha256,
      usage: result.usage,
      cost: result.cost,
      charged: result.charged,
      budget: result.budget,
      budgetLeft: result.budgetLeft,
      asset: result.asset,
      opened,
      txHashes,
      receipt: result.receipt,
      signature: result.signature,
      attestation,
    };
  }

  private async run(
    inputs: InferInputs,
    machine: SelectedMachine,
    attestation: AttestationReport | null,
    emit: (step: ProgressStep) => void,
    onToken: ((text: string) => void) | undefined,
  ): Promise<InferResult> {
    emit({ step: "encrypting", message: `encrypting the request to ${machine.encryptionKey}` });
    const sealed = await this.seal(machine, inputs);
    // However it is paid, the job's record is charged to the payer's escrow storage balance.
    const storageTx = await ensureJobStorage(this.chain, this.escrow);
    if (storageTx !== null) {
      emit({
        step: "storage_deposit",
        txHash: storageTx,
        message: "added to the escrow storage balance for the job record",
      });
    }
    emit({ step: "creating_job", message: `creating the job (at most ${inputs.maxAmount})` });
    const created = await createJob(
      this.chain,
      this.escrow,
      {
        machine_id: machine.machineId,
        model_hash: machine.model.weights_sha256,
        input_hash: sealed.inputHash,
        keyset_sha256: machine.keysetSha256,
        accept_within_ns: inputs.acceptWithinNs.toString(),
        deliver_within_ns: inputs.deliverWithinNs.toString(),
        // The escrow requires a price ceiling: the caller's, or the price the machine was read at.
        max_price_per_unit: (inputs.maxPricePerUnit ?? BigInt(machine.pricePerUnit)).toString(),
      },
      inputs.maxAmount,
      inputs.payment,
    );
    const jobId = created.job.id;
    const report: Report = (step) => emit({ ...step, jobId });
    report({
      step: "job_created",
      txHash: created.txHash,
      message: `job ${jobId} created (max ${created.job.max_amount} ${created.job.asset}, price ${created.job.price_per_unit} per unit)`,
    });
    try {
      return await this.serve(inputs, machine, attestation, sealed, created.job, report, onToken, {
        ...(storageTx === null ? {} : { storageDeposit: storageTx }),
        createJob: created.txHash,
      });
    } catch (error) {
      if (error instanceof ClientError && error.jobId === undefined) {
        throw new ClientError(error.code, `job ${jobId}: ${error.message}`, {
          jobId,
          refunded: error.refunded,
          failureCode: error.failureCode,
          txHash: error.txHash,
          cause: error,
        });
      }
      throw error;
    }
  }

  private async serve(
    inputs: InferInputs,
    machine: SelectedMachine,
    attestation: AttestationReport | null,
    sealed: SealedRequest,
    created: Job,
    report: Report,
    onToken: ((text: string) => void) | undefined,
    txHashes: { storageDeposit?: string; createJob: string },
  ): Promise<InferResult> {
    const endpoint = new ProviderEndpoint(machine.endpoint, { fetch: this.fetch });
    const jobId = created.id;
    report({
      step: "uploading_request",
      message: `uploading the encrypted request to ${endpoint.baseUrl}`,
    });
    await this.upload(endpoint, created, sealed.envelope, inputs.acceptWithinNs);
    report({
      step: "request_uploaded",
      message: `request uploaded (input_hash ${sealed.inputHash})`,
    });

    const streaming = new AbortController();
    const stream =
      onToken === undefined
        ? Promise.resolve("")
        : streamTokens(
            endpoint,
            jobId,
            sealed.responseKey,
            sealed.inputHash,
            onToken,
            report,
            streaming.signal,
          );
    let job: Job;
    let file: Uint8Array;
    let shown: string;
    try {
      job = await waitForDelivery({
        chain: this.chain,
        escrow: this.escrow,
        jobId,
        pollMs: this.options.pollIntervalMs ?? 1000,
        report,
      });
      report({
        step: "fetching_response",
        message: `fetching the response from ${endpoint.baseUrl}`,
      });
      file = await this.fetchResponse(endpoint, job, report);
    } finally {
      streaming.abort();
      shown = await stream;
    }
    if (job.status !== "delivered") {
      clientError(
        "job_closed",
        `job ${jobId} is already ${job.status}: it can no longer be confirmed or disputed here`,
        {
          jobId,
        },
      );
    }
    report({
      step: "verifying_delivery",
      message: "checking the receipt, the response file and its decryption",
    });
    const verdict = checkDelivery(job, file, {
      escrow: this.escrow,
      inputHash: sealed.inputHash,
      weightsSha256: machine.model.weights_sha256,
      modelName: machine.model.name,
      maxTokens: inputs.chat.max_tokens,
      responseKey: sealed.responseKey,
    });
    if (!verdict.ok) return this.dispute(jobId, verdict.reason, report);
    if (onToken !== undefined) this.finishStream(verdict.text, shown, onToken, report);
    let settled: Job | null = null;
    let confirmJob: string | undefined;
    if (inputs.confirm) {
      report({ step: "confirming", message: `the delivery checks out; confirming job ${jobId}` });
      const confirmed = await jobAction(this.chain, this.escrow, "confirm_job", jobId);
      settled = confirmed.value;
      confirmJob = confirmed.txHash;
    }
    return {
      text: verdict.text,
      finishReason: verdict.finishReason,
      jobId,
      machineId: machine.machineId,
      provider: machine.provider,
      model: verdict.receipt.model,
      weightsSha256: verdict.receipt.weights_sha256,
      usage: {
        promptTokens: Number(verdict.receipt.prompt_tokens),
        completionTokens: Number(verdict.receipt.completion_tokens),
      },
      amountDue: settled?.amount_due ?? job.amount_due ?? "0",
      refunded: settled?.client_refund ?? "0",
      asset: job.asset,
      txHashes: confirmJob === undefined ? txHashes : { ...txHashes, confirmJob },
      receipt: verdict.receipt,
      signature: verdict.signature,
      attestation,
    };
  }

  /** Encrypts the chat request to the machine's attested key, bound to this client and job. */
  private async seal(machine: SelectedMachine, inputs: InferInputs): Promise<SealedRequest> {
    try {
      return await sealRequest(
        {
          escrow: this.escrow,
          client: this.accountId,
          machine_id: machine.machineId,
          model: machine.model.weights_sha256,
          keyset_sha256: machine.keysetSha256,
        },
        machine.encryptionKey,
        { model: machine.model.name, ...inputs.chat },
      );
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error;
      return clientError("bad_input", `the request cannot be encrypted: ${error.message}`, {
        cause: error,
      });
    }
  }

  /** Shows the verified answer's text the stream did not show (all of it when there was none). */
  private finishStream(
    text: string,
    shown: string,
    onToken: (text: string) => void,
    report: Report,
  ) {
    if (!text.startsWith(shown)) {
      report({
        step: "stream_interrupted",
        message:
          "the streamed text differs from the verified answer; the result holds the verified one",
      });
      return;
    }
    if (text.length > shown.length) onToken(text.slice(shown.length));
  }

  /** Uploads the envelope; when the endpoint refuses it, cancels the job while that is possible. */
  private async upload(
    endpoint: ProviderEndpoint,
    job: Job,
    envelope: Uint8Array,
    acceptWithinNs: bigint,
  ): Promise<void> {
    const until = Date.now() + Number(acceptWithinNs / 1_000_000n);
    try {
      await endpoint.putRequest(job.id, envelope, until);
    } catch (error) {
      if (!(error instanceof ClientError)) throw error;
      let cancelled = false;
      try {
        await jobAction(this.chain, this.escrow, "cancel_job", job.id);
        cancelled = true;
      } catch {
        // accepted meanwhile: the provider must now deliver or fail it, or the client reclaims
      }
      clientError(
        "endpoint_error",
        cancelled
          ? `${error.message}; job ${job.id} was cancelled and ${job.max_amount} ${job.asset} credited to ${job.payer}'s escrow balance (market.withdraw())`
          : `${error.message}; job ${job.id} was accepted meanwhile: reclaim it after its deliver deadline if it is not delivered`,
        { jobId: job.id, refunded: cancelled, cause: error },
      );
    }
  }

  /** The response file; if the endpoint will not serve it, the delivery cannot be checked: dispute. */
  private async fetchResponse(
    endpoint: ProviderEndpoint,
    job: Job,
    report: Report,
  ): Promise<Uint8Array> {
    const until = Date.now() + RESPONSE_RETRY_MS;
    for (;;) {
      try {
        return await endpoint.response(job.id);
      } catch (error) {
        if (!(error instanceof ClientError)) throw error;
        if (Date.now() >= until) {
          return this.dispute(
            job.id,
            `the endpoint did not serve the response: ${error.message}`,
            report,
          );
        }
        await sleep(1000);
      }
    }
  }

  private async dispute(jobId: string, reason: string, report: Report): Promise<never> {
    report({ step: "disputing", message: `disputing job ${jobId}: ${reason}` });
    const text = reason.length > REASON_CHARS ? `${reason.slice(0, REASON_CHARS - 1)}…` : reason;
    let txHash: string | undefined;
    try {
      txHash = (await jobAction(this.chain, this.escrow, "dispute_job", jobId, text)).txHash;
    } catch (error) {
      clientError(
        "disputed",
        `job ${jobId}: ${reason}; disputing failed too: ${messageOf(error)}`,
        {
          jobId,
          cause: error,
        },
      );
    }
    return clientError("disputed", `job ${jobId}: ${reason}; disputed, the arbiter decides`, {
      jobId,
      txHash,
    });
  }
}
