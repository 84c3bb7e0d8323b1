/**
 * The registry views of the generated chain (synthetic-chain.ts), as the registry contract answers
 * them (contracts/registry index.ts, eligibility.ts, attestations.ts), from the chain's own events:
 * registry_info, get_verifiers, allowlist, provider, providers, machine (with attestation_state),
 * machines, is_eligible, are_eligible. Served over NEAR JSON-RPC `query`/`call_function` beside the
 * blocks, so that `reconcile` checks the indexed tables against the chain after the catch-up bench.
 */
import type { Emitted } from "./synthetic-chain.ts";

type Json = Record<string, unknown>;

export class SyntheticRegistry {
  #info: Json = {};
  #threshold = 1;
  #verifiers: string[] = [];
  #allowlist = new Map<string, Json>();
  #providers = new Map<string, Json>();
  #machines = new Map<string, Json>();
  #attestations = new Map<string, Json>();
  #verdicts = new Map<string, Json>();
  /** The last block's timestamp: views answer at the chain's head. */
  #now = 0n;

  apply(event: Emitted, timestampNs: bigint): void {
    this.#now = timestampNs;
    const d = event.data;
    switch (event.event) {
      case "registry_initialized":
        this.#info = { owner: d.owner, treasury: d.treasury, params: d.params, version: d.version };
        break;
      case "verifier_added":
        this.#verifiers = [...(d.verifiers as string[])];
        this.#threshold = d.threshold as number;
        break;
      case "measurement_allowed":
        this.#allowlist.set(d.measurement_id as string, { ...d });
        break;
      case "provider_registered":
        this.#providers.set(d.account_id as string, { ...d });
        break;
      case "machine_added":
      case "machine_price_updated":
      case "machine_deactivated":
        this.#machines.set(d.id as string, { ...d });
        break;
      case "verdict_posted":
        this.#verdicts.set(d.machine_id as string, {
          evidence_hash: d.evidence_hash,
          outcome: d.outcome,
        });
        if (d.attestation !== null) {
          this.#attestations.set(d.machine_id as string, d.attestation as Json);
        }
        break;
      default:
        throw new Error(`the synthetic registry model has no rule for ${event.event}`);
    }
  }

  /** The last block's timestamp, once every block is generated. */
  finish(timestampNs: bigint): void {
    this.#now = timestampNs;
  }

  #eligible(id: string): { eligible: boolean; reason: string } {
    const m = this.#machines.get(id);
    if (m === undefined) return { eligible: false, reason: "unknown machine" };
    const provider = this.#providers.get(m.provider as string);
    if (provider?.status !== "active") return { eligible: false, reason: "provider not active" };
    if (m.status !== "active") return { eligible: false, reason: "machine not active" };
    if (m.keyset_sha256 === null) return { eligible: false, reason: "no keyset" };
    const a = this.#attestations.get(id);
    if (a === undefined) return { eligible: false, reason: "not attested" };
    if (!this.#allowlist.has(a.measurement_id as string)) {
      return { eligible: false, reason: "measurement not allowed" };
    }
    const approvers = (a.approvers as string[]).filter((v) => this.#verifiers.includes(v));
    if (approvers.length < this.#threshold) return { eligible: false, reason: "too few approvals" };
    if (a.keyset_sha256 !== m.keyset_sha256) return { eligible: false, reason: "keyset" };
    if (this.#now >= BigInt(a.expires_at as string)) return { eligible: false, reason: "expired" };
    return { eligible: true, reason: "" };
  }

  #attestationState(id: string, m: Json): string {
    const evidence = (m.evidence as Json).hash;
    const verdicts = this.#verdicts.get(id);
    if (verdicts?.evidence_hash === evidence && verdicts?.outcome === "rejected") return "rejected";
    const a = this.#attestations.get(id);
    if (a !== undefined && a.evidence_hash === evidence) {
      return this.#now >= BigInt(a.expires_at as string) ? "expired" : "verified";
    }
    return "pending";
  }

  /** A view's answer, as the contract returns it. */
  view(method: string, args: Json): unknown {
    const page = <T>(items: T[]): T[] => {
      const from = Number(args.from_index ?? 0);
      return items.slice(from, from + Number(args.limit ?? 100));
    };
    switch (method) {
      case "registry_info":
        return {
          ...this.#info,
          threshold: this.#threshold,
          verifier_count: this.#verifiers.length,
          dev_mode: false,
          next_machine_id: String(this.#machines.size),
          escrow: null,
        };
      case "get_verifiers":
        return { verifiers: page(this.#verifiers), threshold: this.#threshold };
      case "allowlist":
        return page([...this.#allowlist.values()]);
      case "provider":
        return this.#providers.get(args.account_id as string) ?? null;
      case "providers":
        return page([...this.#providers.values()]);
      case "machine": {
        const m = this.#machines.get(args.machine_id as string);
        return m === undefined
          ? null
          : { ...m, attestation_state: this.#attestationState(args.machine_id as string, m) };
      }
      case "machines":
        return page([...this.#machines.values()]);
      case "is_eligible":
        return { machine_id: args.machine_id, ...this.#eligible(args.machine_id as string) };
      case "are_eligible":
        return (args.machine_ids as string[]).map((id) => ({
          machine_id: id,
          ...this.#eligible(id),
        }));
      default:
        throw new Error(`the synthetic registry has no view ${method}`);
    }
  }
}
