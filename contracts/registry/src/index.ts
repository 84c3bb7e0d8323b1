/**
 * The GPU market registry: providers, machines, attestation state, verifier set and measurement
 * allowlist; the root of trust escrow relies on through is_eligible. Each method validates its
 * arguments and delegates to the module of its concern; see README.md for every method.
 */
import { call, initialize, NearBindgen, near, view } from "near-sdk-js";
import { assertArgsSize } from "../../common/src/args.ts";
import { emitEvent } from "../../common/src/events.ts";
import type {
  AllowedMeasurement,
  Eligibility,
  Machine,
  Provider,
  RegistryParams,
  VerdictSet,
} from "../../common/src/registry-types.ts";
import {
  requireAccountId,
  requireObject,
  requireOnlyKeys,
  requirePage,
} from "../../common/src/validate.ts";
import { allowMeasurement, listAllowlist, revokeMeasurement } from "./allowlist.ts";
import {
  attestationState,
  type EvidenceView,
  expectedReportData,
  getAttestation,
  getVerdicts,
  postVerdict,
  viewEvidence,
} from "./attestations.ts";
import { requestChallenge, viewReportData } from "./challenges.ts";
import { areEligible, isEligible } from "./eligibility.ts";
import { evidenceArgsBytes } from "./evidence.ts";
import { getMachine, parseMachineId } from "./machine-store.ts";
import {
  addMachine,
  listMachines,
  removeMachine,
  setMachineActive,
  submitEvidence,
  updateMachinePrice,
} from "./machines.ts";
import { measurementId, parseMeasurements } from "./measurements.ts";
import { mergeParams } from "./params.ts";
import {
  getProvider,
  listProviders,
  onBondCheck,
  registerProvider,
  retireProvider,
  setProviderPaused,
  slashProvider,
  updateProvider,
  withdrawBond,
} from "./providers.ts";
import { setDevMode, setEscrow, setParams } from "./settings.ts";
import { CONTRACT_VERSION, DEFAULT_PARAMS, LIMITS, type RegistryState } from "./state.ts";
import { migrateState, upgradeSelf } from "./upgrade.ts";
import { addVerifier, removeVerifier, setThreshold } from "./verifiers.ts";

type Args = Record<string, unknown>;

/** Rejects oversized input, then checks the arguments are an object with only `keys`. */
function argsOf(method: string, value: unknown, keys: readonly string[], maxBytes?: number): Args {
  assertArgsSize(method, maxBytes ?? LIMITS.argsBytes);
  const args = requireObject(value, "args");
  requireOnlyKeys(args, "args", keys);
  return args;
}

function sized(method: string, value: unknown, maxBytes?: number): unknown {
  assertArgsSize(method, maxBytes ?? LIMITS.argsBytes);
  return value;
}

@NearBindgen({ requireInit: true })
// biome-ignore lint/correctness/noUnusedVariables: near-sdk-js exports its methods as the contract's
class RegistryContract implements RegistryState {
  version = CONTRACT_VERSION;
  owner = "";
  treasury = "";
  params: RegistryParams = DEFAULT_PARAMS;
  verifiers: string[] = [];
  threshold = 1;
  dev_mode = false;
  next_machine_id = "0";
  escrow = "";

  // `new` cannot name a JS function (reserved word), so the initializer is `init`.
  @initialize({})
  init(value: unknown): void {
    const args = argsOf("init", value, ["owner", "treasury", "params", "escrow"]);
    this.owner = requireAccountId(args.owner, "owner");
    this.treasury = requireAccountId(args.treasury, "treasury");
    this.params = mergeParams(DEFAULT_PARAMS, args.params ?? {}, "params");
    this.escrow = args.escrow === undefined ? "" : requireAccountId(args.escrow, "escrow");
    emitEvent({
      event: "registry_initialized",
      data: {
        owner: this.owner,
        treasury: this.treasury,
        params: this.params,
        version: this.version,
        escrow: this.escrow === "" ? null : this.escrow,
      },
    });
  }

  // Providers

  @call({ payableFunction: true })
  register_provider(value: unknown): Provider {
    return registerProvider(this, sized("register_provider", value));
  }

  @call({ payableFunction: true })
  update_provider(value: unknown): Provider {
    return updateProvider(sized("update_provider", value));
  }

  @call({ payableFunction: true })
  pause_provider(value: unknown): Provider {
    argsOf("pause_provider", value, []);
    return setProviderPaused(true);
  }

  @call({ payableFunction: true })
  resume_provider(value: unknown): Provider {
    argsOf("resume_provider", value, []);
    return setProviderPaused(false);
  }

  @call({ payableFunction: true })
  retire_provider(value: unknown): Provider {
    argsOf("retire_provider", value, []);
    return retireProvider(this);
  }

  @call({ payableFunction: true })
  withdraw_bond(value: unknown): Provider | undefined {
    argsOf("withdraw_bond", value, []);
    return withdrawBond(this);
  }

  @call({ privateFunction: true })
  on_bond_check(value: unknown): Provider {
    return onBondCheck(this, requireObject(value, "args"));
  }

  @call({ payableFunction: true })
  slash_provider(value: unknown): Provider {
    return slashProvider(this, sized("slash_provider", value));
  }

  // Machines and evidence

  @call({ payableFunction: true })
  request_challenge(value: unknown): ReturnType<typeof requestChallenge> {
    return requestChallenge(this, sized("request_challenge", value));
  }

  @call({ payableFunction: true })
  add_machine(value: unknown): Machine {
    return addMachine(this, sized("add_machine", value, evidenceArgsBytes(this.params)));
  }

  @call({ payableFunction: true })
  submit_evidence(value: unknown): Machine {
    return submitEvidence(this, sized("submit_evidence", value, evidenceArgsBytes(this.params)));
  }

  @call({ payableFunction: true })
  update_machine_price(value: unknown): Machine {
    return updateMachinePrice(sized("update_machine_price", value));
  }

  @call({ payableFunction: true })
  deactivate_machine(value: unknown): Machine {
    return setMachineActive(sized("deactivate_machine", value), false);
  }

  @call({ payableFunction: true })
  reactivate_machine(value: unknown): Machine {
    return setMachineActive(sized("reactivate_machine", value), true);
  }

  @call({ payableFunction: true })
  remove_machine(value: unknown): { id: string; provider: string } {
    return removeMachine(sized("remove_machine", value));
  }

  // Verifiers and governance

  @call({ payableFunction: true })
  post_verdict(value: unknown): VerdictSet {
    return postVerdict(this, sized("post_verdict", value));
  }

  @call({ payableFunction: true })
  add_verifier(value: unknown): string[] {
    return addVerifier(this, sized("add_verifier", value));
  }

  @call({ payableFunction: true })
  remove_verifier(value: unknown): string[] {
    return removeVerifier(this, sized("remove_verifier", value));
  }

  @call({ payableFunction: true })
  set_threshold(value: unknown): number {
    return setThreshold(this, sized("set_threshold", value));
  }

  @call({ payableFunction: true })
  allow_measurement(value: unknown): AllowedMeasurement {
    return allowMeasurement(this, sized("allow_measurement", value));
  }

  @call({ payableFunction: true })
  revoke_measurement(value: unknown): string {
    return revokeMeasurement(this, sized("revoke_measurement", value));
  }

  @call({ payableFunction: true })
  set_dev_mode(value: unknown): boolean {
    return setDevMode(this, sized("set_dev_mode", value));
  }

  @call({ payableFunction: true })
  set_params(value: unknown): RegistryParams {
    return setParams(this, sized("set_params", value));
  }

  @call({ payableFunction: true })
  set_escrow(value: unknown): string {
    return setEscrow(this, sized("set_escrow", value));
  }

  // Views

  @view({})
  registry_info(value: unknown): Omit<RegistryState, "verifiers" | "escrow"> & {
    verifier_count: number;
    escrow: string | null;
  } {
    argsOf("registry_info", value, []);
    return {
      version: this.version,
      owner: this.owner,
      treasury: this.treasury,
      params: this.params,
      threshold: this.threshold,
      verifier_count: this.verifiers.length,
      dev_mode: this.dev_mode,
      next_machine_id: this.next_machine_id,
      escrow: this.escrow === "" ? null : this.escrow,
    };
  }

  @view({})
  get_params(value: unknown): RegistryParams {
    argsOf("get_params", value, []);
    return this.params;
  }

  @view({})
  provider(value: unknown): Provider | null {
    const args = argsOf("provider", value, ["account_id"]);
    return getProvider(requireAccountId(args.account_id, "account_id"));
  }

  @view({})
  providers(value: unknown): Provider[] {
    const args = argsOf("providers", value, ["from_index", "limit"]);
    const { from, limit } = requirePage(args, LIMITS.pageLimit);
    return listProviders(from, limit);
  }

  @view({})
  machine(value: unknown): (Machine & { attestation_state: string }) | null {
    const args = argsOf("machine", value, ["machine_id"]);
    const id = parseMachineId(args.machine_id, "machine_id");
    const machine = getMachine(id);
    if (machine === null) {
      return null;
    }
    const state = attestationState(
      machine,
      getVerdicts(id),
      getAttestation(id),
      near.blockTimestamp(),
    );
    return { ...machine, attestation_state: state };
  }

  @view({})
  machines(value: unknown): Machine[] {
    return listMachines(sized("machines", value));
  }

  @view({})
  evidence(value: unknown): EvidenceView | null {
    const args = argsOf("evidence", value, ["machine_id"]);
    return viewEvidence(parseMachineId(args.machine_id, "machine_id"));
  }

  @view({})
  get_verifiers(value: unknown): { verifiers: string[]; threshold: number } {
    const args = argsOf("get_verifiers", value, ["from_index", "limit"]);
    const { from, limit } = requirePage(args, LIMITS.pageLimit);
    return { verifiers: this.verifiers.slice(from, from + limit), threshold: this.threshold };
  }

  @view({})
  allowlist(value: unknown): AllowedMeasurement[] {
    const args = argsOf("allowlist", value, ["from_index", "limit"]);
    const { from, limit } = requirePage(args, LIMITS.pageLimit);
    return listAllowlist(from, limit);
  }

  @view({})
  measurement_id(value: unknown): string {
    const args = argsOf("measurement_id", value, ["measurements"]);
    return measurementId(parseMeasurements(args.measurements, "measurements"));
  }

  @view({})
  report_data(value: unknown): ReturnType<typeof viewReportData> {
    return viewReportData(sized("report_data", value, LIMITS.argsBytes + LIMITS.keysetArgsBytes));
  }

  @view({})
  expected_report_data(value: unknown): string {
    return expectedReportData(sized("expected_report_data", value));
  }

  @view({})
  is_eligible(value: unknown): Eligibility {
    return isEligible(this, sized("is_eligible", value));
  }

  @view({})
  are_eligible(value: unknown): Eligibility[] {
    return areEligible(this, sized("are_eligible", value));
  }
}

/** Raw-input method: the input is the new wasm, not JSON. Owner only. */
export function upgrade(): void {
  upgradeSelf();
}

/**
 * Raw method called by upgrade's receipt after the deploy: rewrites STATE in the new layout. A plain
 * function because near-sdk-js's @migrate export would collide with the decorator's own name.
 */
export function migrate(): void {
  migrateState();
}
