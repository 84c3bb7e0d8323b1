/**
 * register-provider: detect the machine (GPUs through nvidia-smi, CPU, RAM, TEE), reuse or create
 * its keys (ed25519 signing, X25519 encryption), hash the models it serves, run the preflight,
 * then register the provider (if new) and the machine with its keyset and evidence whose
 * REPORTDATA binds that keyset to a fresh registry challenge, and wait for its attestation state.
 */
import { existsSync, readFileSync } from "node:fs";
import type { ModelEntry } from "@gpu-market/common/src/inference-messages.ts";
import { CliError, messageOf } from "../errors.ts";
import { buildEvidence, type TeeType, verifier } from "../evidence.ts";
import { type Hardware, hardwareRecord } from "../gpu/hardware.ts";
import type { HostInfo } from "../gpu/host.ts";
import { detectGpus, type Gpu, type GpuDetection } from "../gpu/nvidia-smi.ts";
import type { CommandRunner } from "../gpu/runner.ts";
import { type Io, step } from "../io.ts";
import {
  loadOrCreateMachineKey,
  type MachineKey,
  machineKeyProof,
  recordRegisteredKeyset,
  saveEvidence,
} from "../machine-key.ts";
import { type ModelSource, resolveModels } from "../models.ts";
import type { Chain } from "../near.ts";
import { type TsmFs, tsmAvailable } from "../tee/configfs-tsm.ts";
import { formatNear, YOCTO_PER_NEAR } from "../units.ts";
import { type Check, failed, passed, printChecks, requireChecks } from "./preflight.ts";

export interface RegisterProviderOptions {
  chain: Chain;
  registry: string;
  /** The provider's account (signs every call). */
  provider: string;
  /** Required when the provider is not registered yet. */
  name?: string;
  endpoint?: string;
  region?: string;
  /** Deposit for register_provider: the bond plus storage. Default: min_bond + 0.05 NEAR. */
  bond?: bigint;
  pricePerUnit: bigint;
  tee: TeeType;
  evidencePath?: string;
  /**
   * Only register the provider (if new) and request a challenge, printing its REPORTDATA: the
   * first step when the quote is made out of band and given later with evidencePath.
   */
  challengeOnly?: boolean;
  gpuTokenPath?: string;
  machineKeyPath: string;
  /** The models the machine serves (--model NAME=PATH or NAME=sha256:HEX). */
  models: readonly ModelSource[];
  /** Replaces GPU detection (none-dev machines without GPUs, e.g. a laptop on localnet). */
  hardwarePath?: string;
  machineDeposit?: bigint;
  dryRun: boolean;
  /** How long to wait for the attestation state; 0: do not wait. */
  waitSeconds: number;
  pollMs?: number;
  runner: CommandRunner;
  host: HostInfo;
  tsmRoot: string;
  tsmFs?: TsmFs;
}

interface ProviderView {
  account_id: string;
  status: string;
  bond: string;
}

interface MachineView {
  id: string;
  attestation_state: string;
  keyset_sha256: string;
  evidence: { hash: string };
}

interface Eligibility {
  eligible: boolean;
  reason?: string;
}

export interface RegisterProviderResult {
  dry_run: boolean;
  network: string;
  registry: string;
  provider: { account_id: string; registered_now: boolean; bond: string | null };
  machine_public_key: string;
  encryption_key: string;
  models: ModelEntry[];
  /** sha256 of the keyset (set once the registry's challenge is known). */
  keyset_sha256: string | null;
  machine_key_file: string;
  machine_key_created: boolean;
  tee_type: TeeType;
  hardware: Hardware;
  gpus: Gpu[];
  price_per_unit: string;
  checks: Check[];
  challenge?: {
    nonce: string;
    keyset_sha256: string;
    report_data: string;
    /** The nonce NVIDIA GPU evidence (NRAS) must be made with. */
    gpu_nonce: string;
    expires_at: string;
  };
  machine: {
    id: string;
    evidence_hash: string;
    evidence_source: string;
    /** The submitted evidence, kept beside the machine key file (the agent serves it). */
    evidence_file: string;
    attestation_state: string;
    eligible: boolean;
    reason: string | null;
  } | null;
}

const CHALLENGE_DEPOSIT = YOCTO_PER_NEAR / 100n;
const DEFAULT_MACHINE_DEPOSIT = YOCTO_PER_NEAR / 10n;
const STORAGE_MARGIN = YOCTO_PER_NEAR / 20n;
const GAS_MARGIN = YOCTO_PER_NEAR / 20n;

function readHardwareFile(path: string): Hardware {
  try {
    return JSON.parse(readFileSync(path, "utf8")) as Hardware;
  } catch (error) {
    throw new CliError(`--hardware ${path}: ${messageOf(error)}`, {
      hint: 'write {"gpus":[{"model","count","vram_mib","driver","vbios","cc_mode"}],"cpu_cores","ram_mib"}',
    });
  }
}

function gpuChecks(detection: GpuDetection): Check[] {
  if (detection.status === "driver-missing") {
    return [failed("NVIDIA driver", detection.message, detection.fix)];
  }
  if (detection.status === "no-gpu") {
    return [
      passed("NVIDIA driver", "nvidia-smi runs"),
      failed("GPUs", detection.message, detection.fix),
    ];
  }
  const driver = detection.gpus[0]?.driver ?? "?";
  return [
    passed("NVIDIA driver", `driver ${driver}`),
    passed(
      "GPUs",
      `${detection.gpus.length} found (${[...new Set(detection.gpus.map((g) => g.name))].join(", ")}), CC ${detection.ccMode}${detection.ccNote ? ` (${detection.ccNote})` : ""}`,
    ),
  ];
}

/** What can be checked on this machine alone: GPUs, TEE, machine keys, models. */
export interface LocalFindings {
  checks: Check[];
  hardware: Hardware | null;
  gpus: Gpu[];
  machineKey: MachineKey | null;
  models: ModelEntry[] | null;
}

export type LocalCheckOptions = Pick<
  RegisterProviderOptions,
  | "tee"
  | "hardwarePath"
  | "evidencePath"
  | "challengeOnly"
  | "dryRun"
  | "gpuTokenPath"
  | "machineKeyPath"
  | "models"
  | "runner"
  | "host"
  | "tsmRoot"
  | "tsmFs"
> & { network: string };

export async function localChecks(options: LocalCheckOptions, io: Io): Promise<LocalFindings> {
  const network = options.network;
  const checks: Check[] = [];
  // Hardware
  let hardware: Hardware | null = null;
  let gpus: Gpu[] = [];
  if (options.hardwarePath !== undefined) {
    if (options.tee !== "none-dev") {
      throw new CliError("--hardware is only for none-dev machines", {
        hint: "TDX machines report what nvidia-smi detects, which verifiers compare with the GPU evidence",
      });
    }
    hardware = readHardwareFile(options.hardwarePath);
    checks.push(passed("hardware", `from ${options.hardwarePath}`));
  } else {
    const detection = await step(io, "detecting GPUs (nvidia-smi)", () =>
      detectGpus(options.runner),
    );
    checks.push(...gpuChecks(detection));
    if (detection.status === "ok") {
      gpus = detection.gpus;
      hardware = hardwareRecord(detection.gpus, detection.ccMode, options.host);
      if (options.tee === "tdx" && detection.ccMode === "devtools") {
        checks.push(
          failed(
            "GPU CC mode",
            "devtools: debug tools can read GPU memory, and the registry refuses such GPUs for TDX machines",
            "switch the GPUs to CC mode on, on the host (nvtrust's nvidia_gpu_tools.py --set-cc-mode=on --reset-after-cc-mode-switch)",
          ),
        );
      } else if (options.tee === "tdx" && detection.ccMode !== "on") {
        io.progress(
          `warning: GPU confidential computing is ${detection.ccMode}; verifiers will not accept GPU evidence from a GPU outside CC mode`,
        );
      }
    }
  }

  // TEE
  if (options.tee === "none-dev") {
    checks.push(
      network === "localnet"
        ? passed("TEE", "none-dev (no TEE; eligible only while the registry is in dev mode)")
        : failed(
            "TEE",
            `none-dev machines are for localnet only, not ${network}`,
            "run inside a TDX guest with --tee tdx (the default)",
          ),
    );
  } else if (options.challengeOnly) {
    checks.push(passed("TEE", "challenge only: the quote is made out of band"));
  } else if (options.evidencePath !== undefined) {
    checks.push(
      existsSync(options.evidencePath)
        ? passed("TEE", `evidence from ${options.evidencePath}`)
        : failed(
            "TEE",
            `${options.evidencePath} does not exist`,
            "give the file of the quote made for this challenge",
          ),
    );
  } else {
    checks.push(
      (await tsmAvailable(options.tsmRoot, options.tsmFs))
        ? passed("TEE", `TDX quotes through configfs-tsm (${options.tsmRoot})`)
        : failed(
            "TEE",
            `no configfs-tsm at ${options.tsmRoot}: this is not a TDX guest (or configfs is not mounted)`,
            "run inside a TDX confidential VM with Linux 6.7+ (`mount -t configfs none /sys/kernel/config`), or pass --evidence <quote file>",
          ),
    );
  }
  if (options.gpuTokenPath !== undefined && !existsSync(options.gpuTokenPath)) {
    checks.push(
      failed("GPU evidence", `${options.gpuTokenPath} does not exist`, "give the NRAS result file"),
    );
  }

  // Machine keys
  let machineKey: MachineKey | null = null;
  try {
    machineKey = loadOrCreateMachineKey(options.machineKeyPath, { write: !options.dryRun });
    checks.push(
      passed(
        "machine key",
        `${machineKey.publicKey}, encryption key ${machineKey.encryptionKey} (${machineKey.created ? (options.dryRun ? "would create" : "created") : "reused"} ${machineKey.path})`,
      ),
    );
  } catch (error) {
    const hint = error instanceof CliError ? error.hint : undefined;
    checks.push(failed("machine key", messageOf(error), hint ?? "fix or move the key file"));
  }

  // Models
  let models: ModelEntry[] | null = null;
  try {
    models = await step(io, "hashing the models' weights", () => resolveModels(options.models));
    checks.push(
      passed("models", models.map((m) => `${m.name} (sha256 ${m.weights_sha256})`).join(", ")),
    );
  } catch (error) {
    const hint = error instanceof CliError ? error.hint : undefined;
    checks.push(failed("models", messageOf(error), hint ?? "check the --model flags"));
  }

  return { checks, hardware, gpus, machineKey, models };
}

export async function registerProvider(
  options: RegisterProviderOptions,
  io: Io,
): Promise<RegisterProviderResult> {
  const { chain, registry, provider } = options;
  const network = chain.network.id;
  const { checks, hardware, gpus, machineKey, models } = await localChecks(
    { ...options, network },
    io,
  );

  // Chain: registry, credentials, balance
  const params = await chain.view<{ min_bond: string }>(registry, "get_params");
  const info = await chain.view<{ dev_mode: boolean }>(registry, "registry_info");
  if (options.tee === "none-dev" && !info.dev_mode) {
    io.progress(
      `warning: ${registry} is not in dev mode: a none-dev machine registers but is not eligible`,
    );
  }
  const existing = await chain.view<ProviderView | null>(registry, "provider", {
    account_id: provider,
  });
  if (existing !== null && existing.status !== "active") {
    checks.push(
      failed(
        "provider",
        `${provider} is ${existing.status} on ${registry}`,
        existing.status === "paused"
          ? "resume it (registry resume_provider)"
          : "use another account",
      ),
    );
  }
  if (
    existing === null &&
    (options.name === undefined || options.endpoint === undefined || options.region === undefined)
  ) {
    checks.push(
      failed(
        "provider",
        `${provider} is not registered yet`,
        "pass --name, --endpoint and --region to register it",
      ),
    );
  }
  const bondDeposit = options.bond ?? BigInt(params.min_bond) + STORAGE_MARGIN;
  const machineDeposit = options.machineDeposit ?? DEFAULT_MACHINE_DEPOSIT;
  const needed =
    (existing === null ? bondDeposit : 0n) + CHALLENGE_DEPOSIT + machineDeposit + GAS_MARGIN;
  try {
    chain.account(provider);
    const balance = await chain.balance(provider);
    if (balance === null) {
      checks.push(
        failed(
          "credentials",
          `${provider} does not exist on ${network}`,
          "create the account first",
        ),
      );
    } else {
      checks.push(passed("credentials", `key for ${provider} found`));
      const available = balance.available;
      checks.push(
        available >= needed
          ? passed("balance", `${formatNear(available)} available, ${formatNear(needed)} needed`)
          : failed(
              "balance",
              `${formatNear(available)} available, ${formatNear(needed)} needed`,
              `send at least ${formatNear(needed - available)} to ${provider}`,
            ),
      );
    }
  } catch (error) {
    const hint = error instanceof CliError ? error.hint : undefined;
    checks.push(failed("credentials", messageOf(error), hint ?? "provide the account's key"));
  }

  const result: RegisterProviderResult = {
    dry_run: options.dryRun,
    network,
    registry,
    provider: { account_id: provider, registered_now: false, bond: existing?.bond ?? null },
    machine_public_key: machineKey?.publicKey ?? "",
    encryption_key: machineKey?.encryptionKey ?? "",
    models: models ?? [],
    keyset_sha256: null,
    machine_key_file: options.machineKeyPath,
    machine_key_created: machineKey?.created ?? false,
    tee_type: options.tee,
    hardware: hardware ?? {
      gpus: [],
      cpu_cores: options.host.cpuCores,
      ram_mib: options.host.ramMib,
    },
    gpus,
    price_per_unit: options.pricePerUnit.toString(),
    checks,
    machine: null,
  };

  io.line(`preflight (${network}, registry ${registry}):`);
  printChecks(io, checks);
  if (options.dryRun) {
    io.line("dry run: would register");
    if (existing === null) {
      io.line(
        `  provider ${provider}: name "${options.name}", endpoint ${options.endpoint}, region ${options.region}, deposit ${formatNear(bondDeposit)}`,
      );
    } else {
      io.line(
        `  provider ${provider}: already registered (${existing.status}, bond ${formatNear(existing.bond)})`,
      );
    }
    io.line(
      `  machine key ${result.machine_public_key}, encryption key ${result.encryption_key}, tee ${options.tee}, price ${options.pricePerUnit} per unit`,
    );
    io.line(`  models ${JSON.stringify(result.models)}`);
    io.line(`  hardware ${JSON.stringify(result.hardware)}`);
    requireChecks(checks);
    io.result(result);
    return result;
  }
  requireChecks(checks);
  if (hardware === null || machineKey === null || models === null) {
    throw new Error("unreachable: checks passed");
  }
  const keyset: KeysetFields = {
    machine_public_key: machineKey.publicKey,
    encryption_key: machineKey.encryptionKey,
    models,
  };

  if (existing === null) {
    const registered = await step(io, `registering provider ${provider}`, () =>
      chain.call<ProviderView>(
        provider,
        registry,
        "register_provider",
        { name: options.name, endpoint: options.endpoint, region: options.region },
        { deposit: bondDeposit },
      ),
    );
    result.provider = { account_id: provider, registered_now: true, bond: registered.value.bond };
  }

  let reportData: string;
  if (options.evidencePath !== undefined && !options.challengeOnly) {
    // The quote was made for the challenge open now: requesting another would replace it.
    const bound = await openReportData(options, keyset);
    reportData = bound.report_data;
    result.keyset_sha256 = bound.keyset_sha256;
  } else {
    const challenge = await requestChallenge(options, keyset, io);
    reportData = challenge.report_data;
    result.keyset_sha256 = challenge.keyset_sha256;
    if (options.challengeOnly) {
      result.challenge = challenge;
      io.line(`challenge for machine key ${machineKey.publicKey}:`);
      io.line(`  keyset     ${challenge.keyset_sha256}`);
      io.line(`  REPORTDATA ${challenge.report_data}`);
      io.line(`  GPU nonce  ${challenge.gpu_nonce} (for the NVIDIA GPU evidence, --gpu-token)`);
      io.line(`  valid until ${challenge.expires_at} (block time, ns)`);
      io.line("make a TDX quote with this REPORTDATA and run again with --evidence <file>");
      io.result(result);
      return result;
    }
  }
  const evidence = await step(io, `collecting ${options.tee} evidence`, () =>
    buildEvidence(
      {
        tee: options.tee,
        evidencePath: options.evidencePath,
        gpuTokenPath: options.gpuTokenPath,
        tsmRoot: options.tsmRoot,
        tsmFs: options.tsmFs,
      },
      reportData,
      hardware,
    ),
  );
  const added = await step(io, "adding the machine", () =>
    chain.call<MachineView>(
      provider,
      registry,
      "add_machine",
      {
        ...keyset,
        tee_type: options.tee,
        hardware,
        price_per_unit: options.pricePerUnit.toString(),
        evidence: Buffer.from(evidence.bytes).toString("base64"),
        // REPORTDATA ends with the challenge's nonce, which the key's proof of possession names.
        machine_key_signature: machineKeyProof(machineKey, {
          registry,
          account: provider,
          nonce: reportData.slice(64),
        }),
      },
      { deposit: machineDeposit, gas: 150_000_000_000_000n },
    ),
  );
  const machineId = added.value.id;
  recordRegisteredKeyset(machineKey.path, {
    machine_id: machineId,
    account: provider,
    registry,
    models,
    keyset_sha256: added.value.keyset_sha256,
  });
  const evidenceFile = saveEvidence(machineKey.path, evidence.bytes);
  result.machine = {
    id: machineId,
    evidence_hash: added.value.evidence.hash,
    evidence_source: evidence.source,
    evidence_file: evidenceFile,
    attestation_state: added.value.attestation_state ?? "pending",
    eligible: false,
    reason: null,
  };
  io.line(
    `machine ${machineId} added (evidence ${added.value.evidence.hash}, ${evidence.bytes.length} bytes, kept in ${evidenceFile} for the agent's /v1/attestation)`,
  );

  const state = await waitForAttestation(options, machineId, io);
  result.machine.attestation_state = state.attestation_state;
  result.machine.eligible = state.eligible;
  result.machine.reason = state.reason;
  io.line(
    `machine ${machineId}: attestation ${state.attestation_state}, ${state.eligible ? "eligible" : `not eligible (${state.reason})`}`,
  );
  io.result(result);
  return result;
}

type KeysetFields = { machine_public_key: string; encryption_key: string; models: ModelEntry[] };

interface BoundReportData {
  keyset_sha256: string;
  report_data: string;
}

/**
 * The keyset hash and REPORTDATA computed here with the verifiers' code, checked against the
 * registry's report_data view: a registry that computes otherwise would have its verifiers
 * reject the evidence.
 */
async function boundReportData(
  options: RegisterProviderOptions,
  keyset: KeysetFields,
  nonce: string,
  registryView: BoundReportData,
): Promise<BoundReportData> {
  const { expectedReportData, keysetSha256 } = await verifier();
  const local = keysetSha256({
    account: options.provider,
    registry: options.registry,
    signing_key: keyset.machine_public_key,
    encryption_key: keyset.encryption_key,
    models: keyset.models,
  });
  const reportData = expectedReportData(local, nonce);
  if (local !== registryView.keyset_sha256 || reportData !== registryView.report_data) {
    throw new CliError(
      `the registry's REPORTDATA ${registryView.report_data} (keyset ${registryView.keyset_sha256}) differs from the formula's ${reportData} (keyset ${local})`,
      { hint: `check that ${options.registry} runs the market's registry contract` },
    );
  }
  return { keyset_sha256: local, report_data: reportData };
}

function viewReportData(
  options: RegisterProviderOptions,
  keyset: KeysetFields,
): Promise<BoundReportData> {
  return options.chain.view<BoundReportData>(options.registry, "report_data", {
    provider: options.provider,
    ...keyset,
  });
}

/** A fresh challenge and the REPORTDATA and GPU nonce that bind the keyset to it. */
async function requestChallenge(
  options: RegisterProviderOptions,
  keyset: KeysetFields,
  io: Io,
): Promise<NonNullable<RegisterProviderResult["challenge"]>> {
  const { chain, registry, provider } = options;
  const challenge = await step(io, "requesting a challenge", () =>
    chain.call<{ nonce: string; expires_at: string }>(
      provider,
      registry,
      "request_challenge",
      { machine_public_key: keyset.machine_public_key },
      { deposit: CHALLENGE_DEPOSIT },
    ),
  );
  const { nonce, expires_at } = challenge.value;
  const bound = await boundReportData(
    options,
    keyset,
    nonce,
    await viewReportData(options, keyset),
  );
  const { gpuNonce } = await verifier();
  return { nonce, ...bound, gpu_nonce: gpuNonce(bound.keyset_sha256, nonce), expires_at };
}

/** The REPORTDATA of the challenge open now (a quote made out of band answers it). */
async function openReportData(
  options: RegisterProviderOptions,
  keyset: KeysetFields,
): Promise<BoundReportData> {
  try {
    const view = await viewReportData(options, keyset);
    return await boundReportData(options, keyset, view.report_data.slice(64), view);
  } catch (error) {
    if (!/no open challenge/.test(messageOf(error))) throw error;
    throw new CliError(`no challenge is open for machine key ${keyset.machine_public_key}`, {
      hint: "run register-provider with --challenge-only first, make the quote with the REPORTDATA it prints, then pass it with --evidence",
    });
  }
}

async function waitForAttestation(
  options: RegisterProviderOptions,
  machineId: string,
  io: Io,
): Promise<{ attestation_state: string; eligible: boolean; reason: string | null }> {
  const deadline = Date.now() + options.waitSeconds * 1000;
  for (;;) {
    const machine = await options.chain.view<MachineView>(options.registry, "machine", {
      machine_id: machineId,
    });
    const eligibility = await options.chain.view<Eligibility>(options.registry, "is_eligible", {
      machine_id: machineId,
    });
    const settled = eligibility.eligible || machine.attestation_state !== "pending";
    if (settled || Date.now() >= deadline) {
      if (!settled && options.waitSeconds > 0) {
        io.progress(
          `still pending after ${options.waitSeconds} s: verifiers have not posted enough verdicts yet; check with \`gpu-market machine ${machineId}\` later`,
        );
      }
      return {
        attestation_state: machine.attestation_state,
        eligible: eligibility.eligible,
        reason: eligibility.reason ?? null,
      };
    }
    io.progress(`waiting for verdicts on machine ${machineId} (${machine.attestation_state}) ...`);
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 3000));
  }
}
