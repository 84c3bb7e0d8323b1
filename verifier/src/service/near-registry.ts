/**
 * The registry over NEAR JSON-RPC (near-api-js): views for machines, evidence (with the keyset it
 * attests), expected REPORTDATA and params, post_verdict signed by the verifier's account, and the
 * evidence bytes, read from
 * the transaction that submitted them: the registry stores only their hash, so the blocks around
 * the evidence's submitted_at timestamp are searched for an add_machine / submit_evidence call
 * whose evidence hashes to it.
 */
import { createHash } from "node:crypto";
import { Account, JsonRpcProvider, type KeyPairString } from "near-api-js";
import type { TeeType } from "../check.ts";
import type { ModelEntry } from "../report-data.ts";
import type { PendingEvidence, RegistryClient, VerdictArgs } from "./registry-client.ts";

const PAGE = 50;
const EVIDENCE_METHODS = ["add_machine", "submit_evidence"];
/** Blocks before the executing block that may hold the submitting transaction. */
const SCAN_BACK = 4;

interface MachineView {
  id: string;
  provider: string;
  machine_public_key: string;
  tee_type: TeeType;
}

interface EvidenceView {
  evidence: { hash: string; nonce: string; submitted_at: string; keyset_sha256: string | null };
  /** The keyset the latest evidence attests (null for evidence from before keysets). */
  keyset: {
    machine_public_key: string;
    encryption_key: string;
    models: ModelEntry[];
    keyset_sha256: string;
  } | null;
  verdicts: {
    evidence_hash: string;
    outcome: string;
    verdicts: { verifier: string }[];
  } | null;
}

interface BlockView {
  header: { height: number; timestamp_nanosec: string };
  chunks: { chunk_hash: string; height_included: number }[];
}

interface ChunkView {
  transactions: {
    receiver_id: string;
    actions: (string | { FunctionCall?: { method_name: string; args: string } })[];
  }[];
}

export interface NearRegistryOptions {
  rpcUrl: string;
  registryId: string;
  accountId: string;
  privateKey: KeyPairString;
  /** Attached to post_verdict for the registry's fixed storage fees; surplus comes back. */
  verdictDeposit?: bigint;
}

export class NearRegistry implements RegistryClient {
  private readonly provider: JsonRpcProvider;
  private readonly account: Account;
  private readonly options: NearRegistryOptions;
  private readonly found = new Map<string, Uint8Array>();

  constructor(options: NearRegistryOptions) {
    this.options = options;
    this.provider = new JsonRpcProvider({ url: options.rpcUrl });
    this.account = new Account(options.accountId, this.provider, options.privateKey);
  }

  private async view<T>(method: string, args: Record<string, unknown>): Promise<T> {
    return (await this.provider.callFunction({
      contractId: this.options.registryId,
      method,
      args,
      blockQuery: { finality: "final" },
    })) as T;
  }

  async pendingEvidence(): Promise<PendingEvidence[]> {
    const out: PendingEvidence[] = [];
    for (let from = 0; ; from += PAGE) {
      const machines = await this.view<MachineView[]>("machines", {
        from_index: from,
        limit: PAGE,
      });
      for (const m of machines) {
        const view = await this.view<EvidenceView | null>("evidence", { machine_id: m.id });
        if (view === null) {
          continue; // removed meanwhile
        }
        // One view answers for the evidence and the keyset it attests, so they agree.
        const { evidence, keyset } = view;
        const set = view.verdicts;
        const current = set !== null && set.evidence_hash === evidence.hash;
        if (current && set.outcome !== "pending") {
          continue;
        }
        out.push({
          machineId: m.id,
          provider: m.provider,
          teeType: m.tee_type,
          machineKey: keyset?.machine_public_key ?? m.machine_public_key,
          evidenceHash: evidence.hash,
          nonce: evidence.nonce,
          keyset:
            keyset === null
              ? null
              : {
                  account: m.provider,
                  registry: this.options.registryId,
                  signing_key: keyset.machine_public_key,
                  encryption_key: keyset.encryption_key,
                  models: keyset.models,
                },
          keysetSha256: evidence.keyset_sha256,
          submittedAt: evidence.submitted_at,
          verifiers: current ? set.verdicts.map((v) => v.verifier) : [],
        });
      }
      if (machines.length < PAGE) {
        return out;
      }
    }
  }

  async allowedTcbStatuses(): Promise<string[]> {
    const params = await this.view<{ allowed_tcb_statuses: string[] }>("get_params", {});
    return params.allowed_tcb_statuses;
  }

  expectedReportData(machineId: string, evidenceHash: string): Promise<string> {
    return this.view<string>("expected_report_data", {
      machine_id: machineId,
      evidence_hash: evidenceHash,
    });
  }

  private async block(height: number): Promise<BlockView | null> {
    try {
      return (await this.provider.viewBlock({ blockId: height })) as unknown as BlockView;
    } catch {
      return null; // a skipped height, or one the node no longer keeps
    }
  }

  /** The height of the block whose timestamp is `ns` (binary search over heights). */
  private async heightAt(ns: bigint): Promise<number> {
    const head = (await this.provider.viewBlock({ finality: "final" })) as unknown as BlockView;
    let lo = 0;
    let hi = head.header.height;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      let probe = mid;
      let block = await this.block(probe);
      while (block === null && probe < hi) {
        probe++;
        block = await this.block(probe);
      }
      if (block === null || BigInt(block.header.timestamp_nanosec) >= ns) {
        hi = mid;
      } else {
        lo = probe + 1;
      }
    }
    return lo;
  }

  private evidenceIn(chunk: ChunkView, hash: string): Uint8Array | null {
    for (const tx of chunk.transactions) {
      if (tx.receiver_id !== this.options.registryId) {
        continue;
      }
      for (const action of tx.actions) {
        const call = typeof action === "string" ? undefined : action.FunctionCall;
        if (call === undefined || !EVIDENCE_METHODS.includes(call.method_name)) {
          continue;
        }
        try {
          const args = JSON.parse(Buffer.from(call.args, "base64").toString("utf8"));
          const bytes = new Uint8Array(Buffer.from(String(args.evidence), "base64"));
          if (createHash("sha256").update(bytes).digest("hex") === hash) {
            return bytes;
          }
        } catch {
          // not JSON arguments: not a call that can carry evidence
        }
      }
    }
    return null;
  }

  async evidenceBytes(pending: PendingEvidence): Promise<Uint8Array | null> {
    const cached = this.found.get(pending.evidenceHash);
    if (cached !== undefined) {
      return cached;
    }
    const executed = await this.heightAt(BigInt(pending.submittedAt));
    for (let h = executed; h >= Math.max(0, executed - SCAN_BACK); h--) {
      const block = await this.block(h);
      for (const header of block?.chunks ?? []) {
        if (header.height_included !== h) {
          continue; // a chunk missing in this block repeats the previous one
        }
        const chunk = (await this.provider.viewChunk(header.chunk_hash)) as unknown as ChunkView;
        const bytes = this.evidenceIn(chunk, pending.evidenceHash);
        if (bytes !== null) {
          this.found.set(pending.evidenceHash, bytes);
          return bytes;
        }
      }
    }
    return null;
  }

  async postVerdict(args: VerdictArgs): Promise<void> {
    await this.account.callFunction({
      contractId: this.options.registryId,
      methodName: "post_verdict",
      args: { ...args },
      deposit: this.options.verdictDeposit ?? 50_000_000_000_000_000_000_000n,
      gas: 100_000_000_000_000n,
    });
  }
}
